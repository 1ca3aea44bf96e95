/*
 * Official-document signals (no level): an ROC 發文字號 or a diplomatic telegram serial
 * tells that a text is an official document rather than a text *about* documents. The
 * findings carry the tag `official_document`; policies can use it (for example to hold
 * official documents sent to outside addresses) but it is not a classification.
 *
 * Patterns are byte regexes, written once for UTF-8 and once for Big5, because rules run
 * both on raw attachment bytes (old Big5 .txt and e-document XML) and on extracted text
 * (always UTF-8).
 */

rule roc_document_number : official_document
{
    meta:
        description = "ROC official document number (發文字號, e.g. 外政字第1150012345號)"
        signal = "official_document"
        confidence = "0.9"
    strings:
        // 字第 <ROC year, 3 digits><serial, 7 digits>[branch] 號
        $utf8 = /\xe5\xad\x97\x20?\xe7\xac\xac\x20?[0-9]{9,12}[A-Za-z0-9]{0,3}\x20?\xe8\x99\x9f/
        $big5 = /\xa6\x72\xb2\xc4[0-9]{9,12}[A-Za-z0-9]{0,3}\xb8\xb9/
    condition:
        any of them
}

rule roc_telegram_serial : official_document
{
    meta:
        description = "Diplomatic telegram serial (電報專號, e.g. 電報專號：USA1526)"
        signal = "official_document"
        confidence = "0.9"
    strings:
        // 電報專號 then ： or : then 2-5 capital letters and 3-6 digits
        $utf8 = /\xe9\x9b\xbb\xe5\xa0\xb1\xe5\xb0\x88\xe8\x99\x9f[ \t]*(:|\xef\xbc\x9a)?[ \t]*[A-Z]{2,5}-?[0-9]{3,6}/
        $big5 = /\xb9\x71\xb3\xf8\xb1\x4d\xb8\xb9[ \t]*(:|\xa1\x47)?[ \t]*[A-Z]{2,5}-?[0-9]{3,6}/
    condition:
        any of them
}
