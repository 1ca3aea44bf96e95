/*
 * The 密等 element of ROC e-document XML (.di / .sw): <密等 代碼="機密"/>, in UTF-8 and
 * Big5. Extraction surfaces the same value as the fact `edoc.secrecy`; this rule still
 * fires when the XML is too damaged to parse. An unclassified letter has <密等 /> (no
 * 代碼) or the non-standard 代碼="普通", neither of which matches.
 */

rule edoc_top_secret
{
    meta:
        description = "e-document 密等 代碼=絕對機密"
        level = "top_secret"
        system = "EDOC"
        confidence = "0.95"
    strings:
        $utf8 = /\xe5\xaf\x86\xe7\xad\x89\s+\xe4\xbb\xa3\xe7\xa2\xbc\s*=\s*["']\xe7\xb5\x95\xe5\xb0\x8d\xe6\xa9\x9f\xe5\xaf\x86["']/
        $big5 = /\xb1\x4b\xb5\xa5\s+\xa5\x4e\xbd\x58\s*=\s*["']\xb5\xb4\xb9\xef\xbe\xf7\xb1\x4b["']/
    condition:
        any of them
}

rule edoc_secret
{
    meta:
        description = "e-document 密等 代碼=極機密"
        level = "secret"
        system = "EDOC"
        confidence = "0.95"
    strings:
        $utf8 = /\xe5\xaf\x86\xe7\xad\x89\s+\xe4\xbb\xa3\xe7\xa2\xbc\s*=\s*["']\xe6\xa5\xb5\xe6\xa9\x9f\xe5\xaf\x86["']/
        $big5 = /\xb1\x4b\xb5\xa5\s+\xa5\x4e\xbd\x58\s*=\s*["']\xb7\xa5\xbe\xf7\xb1\x4b["']/
    condition:
        any of them
}

rule edoc_confidential
{
    meta:
        description = "e-document 密等 代碼=機密"
        level = "confidential"
        system = "EDOC"
        confidence = "0.95"
    strings:
        $utf8 = /\xe5\xaf\x86\xe7\xad\x89\s+\xe4\xbb\xa3\xe7\xa2\xbc\s*=\s*["']\xe6\xa9\x9f\xe5\xaf\x86["']/
        $big5 = /\xb1\x4b\xb5\xa5\s+\xa5\x4e\xbd\x58\s*=\s*["']\xbe\xf7\xb1\x4b["']/
    condition:
        any of them
}

rule edoc_restricted
{
    meta:
        description = "e-document 密等 代碼=密 (general official secret)"
        level = "restricted"
        system = "EDOC"
        confidence = "0.95"
    strings:
        $utf8 = /\xe5\xaf\x86\xe7\xad\x89\s+\xe4\xbb\xa3\xe7\xa2\xbc\s*=\s*["']\xe5\xaf\x86["']/
        $big5 = /\xb1\x4b\xb5\xa5\s+\xa5\x4e\xbd\x58\s*=\s*["']\xb1\x4b["']/
    condition:
        any of them
}
