#!/usr/bin/env python3
"""Write the synthetic clinical fixtures of kamei's tests (fictional people only).

    python3 testdata/clinical/make_fixtures.py

Writes, next to this script:
- ss-mix2/: an SS-MIX2 standardized storage tree (japan/README.md section 7.1) for two fictional
  patients, HL7 v2.5 messages in ISO-2022-JP encoded by Python's `iso2022_jp` codec (an encoder
  independent of kamei's), with the negative variants section 7.2 asks for;
- labs.csv (UTF-8 with BOM) and labs_sjis.csv (Shift_JIS / CP932, Japanese headers), with a
  ragged row and a quoted field with an embedded newline.

The ADT-00 message of patient 1234567890 is the one in japan/README.md section 7.2, byte for byte.
Postal code 999-9999, 架空区 and the 03-0000-xxxx numbers are intentionally fictional.
"""

import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "ss-mix2")

MSH = (
    "MSH|^~\\&|HIS|TESTHOSP|SSMIX2|TESTHOSP|{ts}||{type}|{ctl}|P|2.5||||||{cs}||ISO 2022-1994|"
    "SS-MIX2_1.20^SS-MIX2^1.2.392.200250.2.1.100.1.2.120^ISO"
)


def encode_message(segments):
    out = bytearray()
    for seg in segments:
        # Placeholders for bytes Python's iso2022_jp cannot write: \x01 = JIS 0x2D21 (NEC row 13,
        # the CP932 circled digit one), \x02 = a half-width katakana repetition after ESC ( I.
        parts = []
        run = ""
        for ch in seg:
            if ch in "|^~&":
                parts.append(run.encode("iso2022_jp") + ch.encode("ascii"))
                run = ""
            else:
                run += ch
        parts.append(run.encode("iso2022_jp"))
        out += b"".join(parts) + b"\r"
    out = out.replace(b"\x01", b"\x1b$B-!\x1b(B")
    out = out.replace(b"\x02", b"\x1b(I7.:3\x1b(B^\x1b(I<[3\x1b(B")
    return bytes(out)


def write(rel, data):
    path = os.path.join(ROOT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def name(pid, date, dtype, order, ts, dept, flag):
    folder = "-" if date == "-" else date
    fname = f"{pid}_{folder}_{dtype}_{order}_{ts}_{dept}_{flag}"
    return f"{pid[0:3]}/{pid[3:6]}/{pid}/{folder}/{dtype}/{fname}"


NO_ORDER = "999999999999999"

# Patient 1: 架空 花子 / カクウ ハナコ (japan/README.md section 7).
P1 = "1234567890"
PID1 = (
    "PID|0001||1234567890^^^^PI||架空^花子^^^^^L^I~カクウ^ハナコ^^^^^L^P||19850315|F|||"
    "^^^^999-9999^JPN^H^東京都架空区試験町１−２−３||^PRN^PH^^^^^^^^^03-0000-0000|"
    "^WPN^PH^^^^^^^^^03-0000-0001|||||||||||||||||||20240401093000"
)
PID1_SHORT = "PID|0001||1234567890^^^^PI||架空^花子^^^^^L^I~カクウ^ハナコ^^^^^L^P||19850315|F"
STAFF = "220^検証^一郎^^^^^^^L^^^^^I~220^ケンショウ^イチロウ^^^^^^^L^^^^^P"

adt00 = [
    MSH.format(ts="20240401093000.123", type="ADT^A08^ADT_A01", ctl="20240401000001", cs="~ISO IR87"),
    "EVN||20240401093000|||||TESTUSR",
    PID1,
    "NK1|1|架空^太郎^^^^^L^I~カクウ^タロウ^^^^^L^P|SPO^配偶者^HL70063|^^^^999-9999^JPN^H^東京都架空区試験町１−２−３|"
    "^PRN^PH^^^^^^^^^03-0000-0000||||||||試験商事株式会社^D",
    "PV1|0001|O|01^^^^^N||||999^医師^試験^^^^^^^L^^^^^I~999^イシ^シケン^^^^^^^L^^^^^P",
    "OBX|1|NM|9N001000000000001^身長^JC10||158.0|cm^cm^ISO+|||||F",
    "IN1|1|06^組合管掌健康保険^JHSD0001|06999999|試験健康保険組合||||||99~9999999~01||20240401|||||SEL^本人^HL70063",
]
write(name(P1, "-", "ADT-00", NO_ORDER, "20240401093000123", "-", "1"), encode_message(adt00))

adt61 = [
    MSH.format(ts="20240401093500", type="ADT^A60^ADT_A60", ctl="20240401000002", cs="~ISO IR87"),
    "EVN||20240401093500",
    PID1_SHORT,
    "AL1|1|DA|1234^ペニシリン^99XYZ|SV|発疹 架空様の母も同様|20200110",
]
write(name(P1, "-", "ADT-61", NO_ORDER, "20240401093500000", "-", "1"), encode_message(adt61))

ppr01 = [
    MSH.format(ts="20240402101500", type="PPR^ZD1^PPR_ZD1", ctl="20240402000003", cs="~ISO IR87"),
    PID1_SHORT,
    "PRB|AD|20240402|20051234^2型糖尿病^MDCDX2|000000000067890||||20240401|||||||||||||||",
    "NTE|1||架空様より電話あり 03-0000-0000 2024/04/02 受付",
    "ZPR|1|架空花子の私的メモ",
]
write(name(P1, "-", "PPR-01", NO_ORDER, "20240402101500000", "01", "1"), encode_message(ppr01))

adt12 = [
    MSH.format(ts="20240402090000", type="ADT^A04^ADT_A01", ctl="20240402000004", cs="~ISO IR87"),
    "EVN||20240402090000",
    PID1_SHORT,
    "PV1|0001|O|01^^^^^N||||" + STAFF + "||||||||||||V000000000042|||||||||||||||||||||||||20240402090000",
]
write(name(P1, "20240402", "ADT-12", NO_ORDER, "20240402090000000", "01", "1"), encode_message(adt12))

omp01 = [
    MSH.format(ts="20240402101000", type="RDE^O11^RDE_O11", ctl="20240402000005", cs="~ISO IR87"),
    PID1_SHORT,
    "PV1|0001|O|01^^^^^N",
    "ORC|NW|000000000012345^HIS|||||||20240402101000|" + STAFF + "||" + STAFF + "|||20240402101000||01^内科^99Z01",
    "RXE||1190000^アムロジピン錠５ｍｇ^HOT|1||TAB^錠^MR9P|TAB^錠^MR9P||||14|TAB^錠^MR9P||||RX0000000777",
    "TQ1|||1013044400000000&朝食後&JAMISDP01||||20240402|20240415",
    "RXR|PO^口^HL70162",
]
write(name(P1, "20240402", "OMP-01", "000000000012345", "20240402101000000", "01", "1"), encode_message(omp01))

oml11 = [
    MSH.format(ts="20240402143000", type="OUL^R22^OUL_R22", ctl="20240402000006", cs="~ISO IR87"),
    PID1_SHORT,
    "PV1|0001|O|01^^^^^N",
    "SPM|1|SP0000000999^^^HIS||023^血清^JC10|||||||||||||20240402100000",
    "OBR|1|000000000012346^HIS||3D010000001926101^ＨｂＡ１ｃ^JC10|||20240402100000|||||||||" + STAFF
    + "||||||20240402143000|||F",
    "OBX|1|NM|3D010000001926101^ＨｂＡ１ｃ^JC10||6.1|%^%^ISO+|4.6-6.2||||F|||20240402100000",
    "OBX|2|ST|5H010000001999911^ＨＢｓ抗原^JC10||陰性||||||F",
    "OBX|3|TX|9Z999000000000001^コメント^99XYZ||架空様 溶血あり 再検 連絡先 03-0000-0000||||||F",
    "NTE|1||採血者 検証 一郎 より 架空 花子 様",
]
write(name(P1, "20240402", "OML-11", "000000000012346", "20240402143000000", "01", "1"), encode_message(oml11))

omg01 = [
    MSH.format(ts="20240402102000", type="OMG^O19^OMG_O19", ctl="20240402000007", cs="~ISO IR87"),
    PID1_SHORT,
    "PV1|0001|O|01^^^^^N",
    "ORC|NW|000000000012347^HIS|||||||20240402102000|" + STAFF + "||" + STAFF,
    "OBR|1|000000000012347^HIS||CT.01.00^胸部CT^JJ1017T|||20240405110000||||||架空 花子様 1985年3月15日生 咳嗽",
    "ZE1|1|架空花子 CANARYZSEG",
]
write(name(P1, "20240402", "OMG-01", "000000000012347", "20240402102000000", "01", "1"), encode_message(omg01))

omg11 = [
    MSH.format(ts="20240405113000", type="OMI^Z23^OMI_Z23", ctl="20240405000008", cs="~ISO IR87"),
    PID1_SHORT,
    "ORC|SC|000000000012347^HIS||||||||" + STAFF,
    "IPC|ACC0000000123^HIS|RP000001|1.2.826.0.1.3680043.8.498.4201|SPS000001|CT",
]
write(name(P1, "20240405", "OMG-11", "000000000012347", "20240405113000000", "01", "0"), encode_message(omg11))

# Patient 2: 虚構 次郎 / キョコウ ジロウ: the negative variants.
P2 = "2345678901"
adt00_2 = encode_message([
    # MSH-18 spelled without the space (JAHIS style).
    MSH.format(ts="20240410080000", type="ADT^A08^ADT_A01", ctl="20240410000001", cs="~ISOIR87"),
    "EVN||20240410080000",
    # ssmixtwins' four-caret kanji repetition; a half-width katakana repetition written with
    # ESC ( I (forbidden by SS-MIX2); an address character outside JIS X 0208 (NEC row 13).
    "PID|0001||2345678901^^^^PI||虚構^次郎^^^^L^I~キョコウ^ジロウ^^^^^L^P~\x02^^^^^L^P||19400220|M|||"
    "^^^^999-9998^JPN^H^東京都虚構市見本町\x01４−５−６||^PRN^PH^^^^^^^^^03-0000-0002",
])
write(name(P2, "-", "ADT-00", NO_ORDER, "20240410080000000", "-", "1"), adt00_2)

oml11_2 = [
    MSH.format(ts="20240410120000", type="OUL^R22^OUL_R22", ctl="20240410000002", cs="~ISOIR87"),
    "PID|0001||2345678901^^^^PI||虚構^次郎^^^^L^I||19400220|M",
    "OBR|1|000000000022222^HIS||3D010000001926101^ＨｂＡ１ｃ^JC10|||20240410100000",
    "OBX|1|NM|3D010000001926101^ＨｂＡ１ｃ^JC10||7.2|%^%^ISO+|4.6-6.2||||F",
]
write(
    name(P2, "20240410", "OML-11", "000000000022222", "20240410120000000", "01", "1"),
    encode_message(oml11_2).replace(b"\r", b"\r\n"),
)
# A message that does not parse: reported, not copied.
write(
    name(P2, "20240410", "ADT-12", NO_ORDER, "20240410090000000", "01", "1"),
    "これはHL7ではありません 虚構次郎".encode("iso2022_jp"),
)

# CSV exports.
LABS_HEADER = "patient_id,patient_name,birth_date,age,sex,postal_code,phone,department,visit_date,collected_at,test_code,test_name,value,unit,comment,ward_memo"
LABS_ROWS = [
    '1234567890,架空 花子,1985-03-15,39,F,999-9999,03-0000-0000,内科,2024-02-01,2024/02/01 10:00,3D010000001926101,HbA1c,6.1,%,"架空さん 再検 03-0000-0000",x',
    '1234567890,架空 花子,1985-03-15,39,F,999-9999,03-0000-0000,内科,2024-04-02,20240402100000,3D010000001926101,HbA1c,6.1,%,"2024/4/2 採血\n溶血なし",x',
    '2345678901,虚構 次郎,1940-02-20,94,M,999-9998,03-0000-0002,外科,2024-04-10,2024-04-10T10:00:00,3D010000001926101,HbA1c,7.2,%,虚構様 TEL 03-0000-0002,y',
    "2345678901,虚構 次郎,1940-02-20,94,M,999-9998,03-0000-0002,外科,2024-04-11",
    '3456789012,見本 三子,2001-12-01,22,F,999-9997,03-0000-0003,眼科,2024-05-01,2024-05-01 09:30,5H010000001999911,HBs,陰性,,見本三子さん 問題なし,z',
]
with open(os.path.join(HERE, "labs.csv"), "wb") as f:
    f.write(("\ufeff" + LABS_HEADER + "\n" + "\n".join(LABS_ROWS) + "\n").encode("utf-8"))

SJIS_HEADER = "患者ID,氏名,カナ氏名,生年月日,性別,郵便番号,受診日,検査名,結果,コメント"
SJIS_ROWS = [
    "1234567890,架空 花子,カクウ ハナコ,1985/03/15,F,〒999-9999,2024/02/01,ＨｂＡ１ｃ,6.1,①髙橋医師確認 架空様",
    "2345678901,虚構 次郎,ｷｮｺｳ ｼﾞﾛｳ,1940/02/20,M,999-9998,2024/04/10,ＨｂＡ１ｃ,7.2,特記なし",
]
with open(os.path.join(HERE, "labs_sjis.csv"), "wb") as f:
    f.write((SJIS_HEADER + "\r\n" + "\r\n".join(SJIS_ROWS) + "\r\n").encode("cp932"))
