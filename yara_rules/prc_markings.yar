/*
 * PRC classification marks: 绝密★ / 机密★ / 秘密★ at the start of a line, followed by a
 * period (★10年, ★长期, ★启用前). The PRC ladder is one step lower than the ROC one for
 * the same word: 秘密 = confidential, 机密 = secret, 绝密 = top secret.
 * The markings detector recognises these in extracted text with its mention filters;
 * these rules also catch them in raw UTF-8 and GB18030/GBK bytes of plain-text files.
 */

rule prc_top_secret_star
{
    meta:
        description = "PRC marking 绝密★"
        level = "top_secret"
        system = "PRC"
        confidence = "0.9"
    strings:
        $utf8 = /(^|[\r\n])[ \t]*\xe7\xbb\x9d\xe5\xaf\x86[ \t]*\xe2\x98\x85[ \t]*([0-9]|\xe9\x95\xbf\xe6\x9c\x9f|\xe5\x90\xaf\xe7\x94\xa8\xe5\x89\x8d)/
        $gbk = /(^|[\r\n])[ \t]*\xbe\xf8\xc3\xdc[ \t]*\xa1\xef[ \t]*([0-9]|\xb3\xa4\xc6\xda|\xc6\xf4\xd3\xc3\xc7\xb0)/
    condition:
        any of them
}

rule prc_secret_star
{
    meta:
        description = "PRC marking 机密★"
        level = "secret"
        system = "PRC"
        confidence = "0.9"
    strings:
        $utf8 = /(^|[\r\n])[ \t]*\xe6\x9c\xba\xe5\xaf\x86[ \t]*\xe2\x98\x85[ \t]*([0-9]|\xe9\x95\xbf\xe6\x9c\x9f|\xe5\x90\xaf\xe7\x94\xa8\xe5\x89\x8d)/
        $gbk = /(^|[\r\n])[ \t]*\xbb\xfa\xc3\xdc[ \t]*\xa1\xef[ \t]*([0-9]|\xb3\xa4\xc6\xda|\xc6\xf4\xd3\xc3\xc7\xb0)/
    condition:
        any of them
}

rule prc_confidential_star
{
    meta:
        description = "PRC marking 秘密★"
        level = "confidential"
        system = "PRC"
        confidence = "0.9"
    strings:
        $utf8 = /(^|[\r\n])[ \t]*\xe7\xa7\x98\xe5\xaf\x86[ \t]*\xe2\x98\x85[ \t]*([0-9]|\xe9\x95\xbf\xe6\x9c\x9f|\xe5\x90\xaf\xe7\x94\xa8\xe5\x89\x8d)/
        $gbk = /(^|[\r\n])[ \t]*\xc3\xd8\xc3\xdc[ \t]*\xa1\xef[ \t]*([0-9]|\xb3\xa4\xc6\xda|\xc6\xf4\xd3\xc3\xc7\xb0)/
    condition:
        any of them
}
