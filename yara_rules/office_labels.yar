/*
 * Microsoft Purview sensitivity labels as they appear in docProps/custom.xml
 * (<property name="MSIP_Label_<GUID>_Name"><vt:lpwstr>Secret</vt:lpwstr>) and in the
 * `msip_labels:` mail header (MSIP_Label_<GUID>_Name=Secret;). The markings detector
 * maps label names through detect.label_levels; these rules catch the same labels in
 * raw bytes of flat XML and in the message headers. Adjust the names to your tenant's.
 */

rule office_label_present : sensitivity_label
{
    meta:
        description = "Office sensitivity label present (MSIP_Label_..._Enabled)"
        system = "OFFICE"
    strings:
        $enabled = /MSIP_Label_[0-9A-Fa-f-]{36}_Enabled/
    condition:
        $enabled
}

rule office_label_top_secret : sensitivity_label
{
    meta:
        description = "Office sensitivity label Top Secret / 絕對機密"
        level = "top_secret"
        system = "OFFICE"
        confidence = "0.9"
    strings:
        $name = /MSIP_Label_[0-9A-Fa-f-]{36}_Name("[^>]{0,200}>[ \t\r\n]*<vt:lpwstr>|[ \t]*=[ \t]*)(Top Secret|TOP SECRET|\xe7\xb5\x95\xe5\xb0\x8d\xe6\xa9\x9f\xe5\xaf\x86)/
    condition:
        $name
}

rule office_label_secret : sensitivity_label
{
    meta:
        description = "Office sensitivity label Secret / 極機密"
        level = "secret"
        system = "OFFICE"
        confidence = "0.9"
    strings:
        $name = /MSIP_Label_[0-9A-Fa-f-]{36}_Name("[^>]{0,200}>[ \t\r\n]*<vt:lpwstr>|[ \t]*=[ \t]*)(Secret|SECRET|\xe6\xa5\xb5\xe6\xa9\x9f\xe5\xaf\x86)[^A-Za-z]/
    condition:
        $name
}

rule office_label_confidential : sensitivity_label
{
    meta:
        description = "Office sensitivity label Confidential / 機密"
        level = "confidential"
        system = "OFFICE"
        confidence = "0.9"
    strings:
        $name = /MSIP_Label_[0-9A-Fa-f-]{36}_Name("[^>]{0,200}>[ \t\r\n]*<vt:lpwstr>|[ \t]*=[ \t]*)(Highly Confidential|Confidential|CONFIDENTIAL|\xe6\xa9\x9f\xe5\xaf\x86)/
    condition:
        $name
}
