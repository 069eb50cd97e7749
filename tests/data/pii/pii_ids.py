"""Independent Python implementations of the identifier checksums, used to
generate valid and near-miss values for the labelled corpus (gen_*.py).
Written from the same definitions as policies/validate.c, separately, so
the corpus is a cross-check of the C code and not a copy of it."""
import random

ES_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def luhn_check_digit(body):
    total = 0
    for i, ch in enumerate(reversed(body)):
        v = int(ch)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return str((10 - total % 10) % 10)


def luhn_ok(num):
    return luhn_check_digit(num[:-1]) == num[-1]


def mod11_10_check(body):
    p = 10
    for ch in body:
        s = (int(ch) + p) % 10
        if s == 0:
            s = 10
        p = (2 * s) % 11
    return str((11 - p) % 10)


IBAN_LEN = {"DE": 22, "AT": 20, "CH": 21, "FR": 27, "IT": 27, "ES": 24, "NL": 18,
            "BE": 16, "PL": 28, "GB": 22, "LU": 20, "IE": 22, "PT": 25, "DK": 18}


def iban_mod97(s):
    s = s[4:] + s[:4]
    num = "".join(str(int(c, 36)) for c in s)
    return int(num) % 97


def make_iban(rng, cc):
    n = IBAN_LEN[cc] - 4
    if cc in ("NL",):
        bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + \
            "".join(rng.choice("0123456789") for _ in range(n - 4))
    elif cc == "GB":
        bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + \
            "".join(rng.choice("0123456789") for _ in range(n - 4))
    elif cc == "IT":
        bban = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") + \
            "".join(rng.choice("0123456789") for _ in range(n - 1))
    else:
        bban = "".join(rng.choice("0123456789") for _ in range(n))
    check = 98 - iban_mod97(cc + "00" + bban)
    return "%s%02d%s" % (cc, check, bban)


def group4(s):
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


CARD_PREFIXES = [("4", 16), ("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16),
                 ("2500", 16), ("34", 15), ("37", 15), ("6011", 16), ("65", 16),
                 ("3530", 16), ("36", 14)]


def make_card(rng, prefix=None, length=None):
    if prefix is None:
        prefix, length = rng.choice(CARD_PREFIXES)
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + luhn_check_digit(body)


def card_grouped(num, sep=" "):
    if len(num) == 15:
        return num[:4] + sep + num[4:10] + sep + num[10:]
    if len(num) == 14:
        return num[:4] + sep + num[4:10] + sep + num[10:]
    return sep.join(num[i:i + 4] for i in range(0, len(num), 4))


def de_tax_id_ok(d):
    if len(d) != 11 or d[0] == "0":
        return False
    counts = [d[:10].count(c) for c in "0123456789"]
    if sum(1 for c in counts if c >= 2) != 1 or max(counts) > 3:
        return False
    for i in range(8):
        if d[i] == d[i + 1] == d[i + 2]:
            return False
    return mod11_10_check(d[:10]) == d[10]


def make_de_tax_id(rng):
    while True:
        digits = rng.sample("0123456789", 9)
        dup = rng.choice(digits)
        body = digits + [dup]
        rng.shuffle(body)
        body = "".join(body)
        if body[0] == "0":
            continue
        d = body + mod11_10_check(body)
        if de_tax_id_ok(d):
            return d


def make_de_vat(rng):
    body = str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(7))
    return "DE" + body + mod11_10_check(body)


def digit_sum(v):
    return v // 10 + v % 10


def make_at_vat(rng):
    d = [rng.randint(0, 9) for _ in range(7)]
    s = sum(v if i % 2 == 0 else digit_sum(2 * v) for i, v in enumerate(d))
    return "ATU" + "".join(map(str, d)) + str((10 - (s + 4) % 10) % 10)


def make_fr_vat(rng):
    siren = rng.randint(100000000, 999999999)
    return "FR%02d%09d" % ((12 + 3 * (siren % 97)) % 97, siren)


def make_it_vat(rng):
    body = "".join(rng.choice("0123456789") for _ in range(7)) + "%03d" % rng.randint(1, 100)
    return "IT" + body + luhn_check_digit(body)


def make_es_dni(rng):
    n = rng.randint(10000000, 99999999)
    return "%08d%s" % (n, ES_LETTERS[n % 23])


def make_es_nie(rng):
    p = rng.choice("XYZ")
    n = rng.randint(0, 9999999)
    return "%s%07d%s" % (p, n, ES_LETTERS[("XYZ".index(p) * 10000000 + n) % 23])


def make_es_cif(rng):
    letter = rng.choice("ABCDEFGHJNUVW")
    d = [rng.randint(0, 9) for _ in range(7)]
    s = sum(digit_sum(2 * v) if i % 2 == 0 else v for i, v in enumerate(d))
    c = (10 - s % 10) % 10
    ctrl = str(c) if letter in "ABEH" else ("JABCDEFGHI"[c] if letter in "NPQRSW" else str(c))
    return letter + "".join(map(str, d)) + ctrl


def nl_11proef(d):
    s = sum((9 - i) * int(d[i]) for i in range(8)) - int(d[8])
    return s % 11 == 0


def make_bsn(rng):
    while True:
        d = str(rng.randint(100000000, 999999999))
        if nl_11proef(d):
            return d


def make_nl_vat(rng):
    return "NL" + make_bsn(rng) + "B%02d" % rng.randint(1, 99)


def make_be_vat(rng):
    body = rng.randint(2000000, 9999999)
    body = "0%07d" % body if rng.random() < 0.5 else "1%07d" % rng.randint(0, 9999999)
    return "BE" + body + "%02d" % (97 - int(body) % 97)


def make_pl_vat(rng):
    w = [6, 5, 7, 2, 3, 4, 5, 6, 7]
    while True:
        d = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
        c = sum(a * b for a, b in zip(w, d)) % 11
        if c != 10:
            return "PL" + "".join(map(str, d)) + str(c)


ICAO_W = [7, 3, 1]


def icao_value(c):
    return int(c) if c.isdigit() else ord(c) - 55


def make_de_id_card(rng, with_check=True):
    first = rng.choice("LMNPRTVWXY")
    rest = "".join(rng.choice("0123456789CFGHJKLMNPRTVWXYZ") for _ in range(8))
    num = first + rest
    if not with_check:
        return num
    s = sum(icao_value(c) * ICAO_W[i % 3] for i, c in enumerate(num))
    return num + str(s % 10)


def make_de_pension(rng):
    area = "%02d" % rng.choice([2, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25,
                                  26, 28, 29, 38, 39, 40, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53,
                                  54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66])
    date = "%02d%02d%02d" % (rng.randint(1, 28), rng.randint(1, 12), rng.randint(40, 99))
    letter = rng.choice("ABCDEFGHIJKLMNOPRSTUVWZ")
    serial = "%02d" % rng.randint(0, 99)
    pos = ord(letter) - 64
    digs = [int(c) for c in area + date] + [pos // 10, pos % 10] + [int(c) for c in serial]
    w = [2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1]
    s = sum(digit_sum(a * b) for a, b in zip(digs, w))
    return area + date + letter + serial + str(s % 10)


def make_de_kvnr(rng):
    letter = rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    body = "".join(rng.choice("0123456789") for _ in range(8))
    pos = ord(letter) - 64
    digs = [pos // 10, pos % 10] + [int(c) for c in body]
    s = sum(digit_sum(v * (2 if i % 2 else 1)) for i, v in enumerate(digs))
    return letter + body + str(s % 10)


def make_at_svnr(rng):
    w = [3, 7, 9, 0, 5, 8, 4, 2, 1, 6]
    while True:
        serial = "%03d" % rng.randint(100, 999)
        date = "%02d%02d%02d" % (rng.randint(1, 28), rng.randint(1, 12), rng.randint(0, 99))
        d = serial + "0" + date
        s = sum(int(c) * w[i] for i, c in enumerate(d)) % 11
        if s != 10:
            return serial + str(s) + date


def make_fr_nir(rng, corsica=None):
    sex = rng.choice("12")
    yy = "%02d" % rng.randint(0, 99)
    mm = "%02d" % rng.randint(1, 12)
    if corsica:
        dept = corsica
    else:
        dept = "%02d" % rng.choice([1, 6, 13, 31, 33, 35, 44, 59, 67, 69, 75, 76, 92, 93, 94])
    commune = "%03d" % rng.randint(1, 990)
    order = "%03d" % rng.randint(1, 999)
    body = sex + yy + mm + dept + commune + order
    num = int(body.replace("2A", "19").replace("2B", "18"))
    return body + "%02d" % (97 - num % 97)


def nir_spaced(n):
    return " ".join([n[0], n[1:3], n[3:5], n[5:7], n[7:10], n[10:13], n[13:15]])


IT_ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]


def it_cf_check(s15):
    total = 0
    for i, c in enumerate(s15):
        v = int(c) if c.isdigit() else ord(c) - 65
        total += IT_ODD[v] if i % 2 == 0 else v
    return chr(65 + total % 26)


def make_it_cf(rng):
    cons = "BCDFGHLMNPRSTVZ"
    name = "".join(rng.choice(cons) for _ in range(3)) + "".join(rng.choice(cons + "AEIOU") for _ in range(3))
    yy = "%02d" % rng.randint(40, 99)
    month = rng.choice("ABCDEHLMPRST")
    day = rng.randint(1, 28) + (40 if rng.random() < 0.5 else 0)
    town = rng.choice("ABCDEFGHILMZ") + "%03d" % rng.randint(1, 999)
    s15 = name + yy + month + "%02d" % day + town
    return s15 + it_cf_check(s15)


def make_pesel(rng):
    w = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3]
    yy = rng.randint(0, 99)
    mm = rng.randint(1, 12)
    if rng.random() < 0.3:
        yy = rng.randint(0, 20)
        mm += 20
    d = "%02d%02d%02d%04d" % (yy, mm, rng.randint(1, 28), rng.randint(0, 9999))
    s = sum(int(c) * w[i] for i, c in enumerate(d))
    return d + str((10 - s % 10) % 10)


def make_be_nn(rng):
    yy = rng.randint(0, 99)
    body = "%02d%02d%02d%03d" % (yy, rng.randint(1, 12), rng.randint(1, 28), rng.randint(1, 997))
    if yy < 25 and rng.random() < 0.5:
        check = 97 - (2000000000 + int(body)) % 97
    else:
        check = 97 - int(body) % 97
    return body + "%02d" % check


def be_nn_dotted(n):
    return "%s.%s.%s-%s.%s" % (n[0:2], n[2:4], n[4:6], n[6:9], n[9:11])


def make_nino(rng):
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    if first + second in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        second = "A"
    return first + second + "%06d" % rng.randint(0, 999999) + rng.choice("ABCD")


def make_nhs(rng):
    while True:
        d = "%09d" % rng.randint(100000000, 999999999)
        s = sum((10 - i) * int(c) for i, c in enumerate(d))
        c = 11 - s % 11
        if c == 11:
            c = 0
        if c != 10:
            return d + str(c)


def make_ssn(rng):
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    return "%03d-%02d-%04d" % (area, rng.randint(1, 99), rng.randint(1, 9999))
