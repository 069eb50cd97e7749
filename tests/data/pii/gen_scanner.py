#!/usr/bin/env python3
"""Generates the labelled corpus for the scanner's detector families:
contact.jsonl, financial.jsonl, national_id.jsonl (this folder).

Each line: {"lang", "text", "spans": [{"start","end","entity"}]} with byte
offsets into the UTF-8 text; near-miss lines carry "near_miss": entity and
no span of that entity. Values come from pii_ids.py (valid ones computed
from the checksum definitions; near-misses break exactly one rule or are
look-alikes: order and invoice numbers, dates, versions, wrong check
digits, numbers that pass a weak checksum but stand without context).

Run:  /usr/bin/python3 gen_scanner.py   (deterministic: fixed seed)"""
import json
import os
import random

import pii_ids as P

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20261123)

FIRST = ["Anna", "Lukas", "Marie", "Jonas", "Sophie", "Paul", "Claire", "Luca", "Giulia",
         "Javier", "Lucía", "Emma", "Noah", "Sven", "Katarzyna", "Pieter", "Chloé", "Marco"]
LAST = ["Müller", "Schmidt", "Weber", "Dubois", "Rossi", "García", "Jansen", "Kowalski",
        "Smith", "Fischer", "Bianchi", "Martin", "Peeters", "Wagner", "López", "Moreau"]
DOMAINS = ["example.de", "firma-gmbh.de", "example.com", "kunde.at", "exemple.fr",
           "empresa.es", "azienda.it", "bedrijf.nl", "mail.example.co.uk", "uni-hamburg.de"]


def pick(xs):
    return rng.choice(xs)


def ascii_name(s):
    return (s.lower().replace("ü", "ue").replace("é", "e").replace("í", "i")
            .replace("ç", "c"))


def make_email():
    f, l = ascii_name(pick(FIRST)), ascii_name(pick(LAST))
    local = pick(["%s.%s" % (f, l), "%s%s" % (f[0], l), "%s_%s" % (f, l), "%s.%s+crm" % (f, l),
                  "info", "buchhaltung", "%s-%s" % (f, l), "%s%d" % (f, rng.randint(1, 99))])
    return local + "@" + pick(DOMAINS)


def make_phone():
    kind = rng.randrange(12)
    if kind == 0:
        return "+49 %d %d" % (rng.choice([30, 40, 89, 221, 69, 711]), rng.randint(1000000, 99999999))
    if kind == 1:
        return "+49 (0)%d %d-%d" % (rng.choice([30, 89, 40]), rng.randint(100000, 999999), rng.randint(10, 99))
    if kind == 2:
        return "0%d %d" % (rng.choice([30, 40, 89, 221, 351, 171, 151, 160]), rng.randint(1000000, 9999999))
    if kind == 3:
        return "+43 1 %d" % rng.randint(1000000, 9999999)
    if kind == 4:
        return "+41 44 %03d %02d %02d" % (rng.randint(100, 999), rng.randint(10, 99), rng.randint(10, 99))
    if kind == 5:
        return "+33 1 %02d %02d %02d %02d" % tuple(rng.randint(10, 99) for _ in range(4))
    if kind == 6:
        return "0%d %02d %02d %02d %02d" % (rng.choice([1, 6, 7]), *[rng.randint(10, 99) for _ in range(4)])
    if kind == 7:
        return "+39 02 %d" % rng.randint(1000000, 99999999)
    if kind == 8:
        return "+34 %d %03d %03d" % (rng.choice([612, 655, 691, 915]), rng.randint(100, 999), rng.randint(100, 999))
    if kind == 9:
        return "+31 20 %03d %04d" % (rng.randint(100, 999), rng.randint(1000, 9999))
    if kind == 10:
        return "+44 20 %04d %04d" % (rng.randint(1000, 9999), rng.randint(1000, 9999))
    return "(%d) 555-%04d" % (rng.randint(201, 989), rng.randint(100, 9999))


def make_ipv4():
    form = rng.randrange(4)
    if form == 0:
        return "10.%d.%d.%d" % (rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))
    if form == 1:
        return "192.168.%d.%d" % (rng.randint(0, 255), rng.randint(1, 254))
    if form == 2:
        return "172.%d.%d.%d" % (rng.randint(16, 31), rng.randint(0, 255), rng.randint(1, 254))
    return "%d.%d.%d.%d" % (rng.randint(11, 223), rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254))


def make_ipv6():
    g = ["%x" % rng.randint(1, 0xffff) for _ in range(8)]
    form = rng.randrange(3)
    if form == 0:
        return "2001:db8:" + ":".join(g[:2]) + "::" + g[2]
    if form == 1:
        return "fe80::" + ":".join(g[:4])
    return ":".join(g)


def make_mac():
    sep = pick([":", ":", "-"])
    b = ["%02x" % rng.randint(0, 255) for _ in range(6)]
    s = sep.join(b)
    return s.upper() if rng.random() < 0.5 else s


def make_iban():
    cc = pick(["DE", "DE", "AT", "CH", "FR", "IT", "ES", "NL", "BE", "PL", "GB", "LU"])
    v = P.make_iban(rng, cc)
    return P.group4(v) if rng.random() < 0.5 else v


def make_card():
    v = P.make_card(rng)
    r = rng.random()
    if r < 0.5:
        return P.card_grouped(v, " ")
    if r < 0.6:
        return P.card_grouped(v, "-")
    return v


BICS = ["COBADEFFXXX", "DEUTDEFF", "DEUTDEDBBER", "BNPAFRPP", "UNCRITMM", "CAIXESBBXXX",
        "INGBNL2A", "GEBABEBB", "PKOPPLPW", "BKAUATWW", "UBSWCHZH80A", "NWBKGB2L", "SOGEFRPP",
        "BCITITMM", "RABONL2U", "GENODEF1S04", "HYVEDEMMXXX", "BYLADEM1001", "SSKMDEMMXXX"]


def make_vat():
    return pick([P.make_de_vat, P.make_at_vat, P.make_fr_vat, P.make_it_vat,
                 lambda r: "ES" + P.make_es_cif(r), P.make_nl_vat, P.make_be_vat, P.make_pl_vat])(rng)


def spaced_tax_id(v):
    return "%s %s %s %s" % (v[:2], v[2:5], v[5:8], v[8:]) if rng.random() < 0.5 else v


# ---- templates: (lang, text with {v}) ----
T = {}
T["email"] = [
    ("de", "Bitte schicken Sie die Unterlagen an {v}, die Kollegin ist ab Montag zurück."),
    ("de", "Kontakt für Rückfragen: {v} (Buchhaltung)."),
    ("de", "Ich habe die Einladung an {v} weitergeleitet, bitte bestätigen."),
    ("en", "Please reach out to {v} if the invoice is still open."),
    ("en", "Forwarding this thread to {v} for the Q3 review."),
    ("en", "Contact: {v}"),
    ("fr", "Merci d'envoyer le devis à {v} avant vendredi."),
    ("fr", "Pour toute question, écrivez à {v}."),
    ("es", "Por favor, envíe la factura a {v} antes del cierre del mes."),
    ("es", "Puede contactar con el departamento en {v}."),
    ("it", "Per informazioni scrivere a {v} entro giovedì."),
    ("it", "Ho inoltrato la richiesta a {v}, attendo risposta."),
]
T["phone"] = [
    ("de", "Sie erreichen mich unter Tel. {v} zwischen 9 und 17 Uhr."),
    ("de", "Rückruf bitte unter {v}, ich bin heute im Homeoffice."),
    ("de", "Telefon: {v}, Fax bitte nicht mehr nutzen."),
    ("de", "Mobil: {v}"),
    ("en", "You can call me on {v} this afternoon."),
    ("en", "Phone: {v} (direct line)"),
    ("en", "My mobile is {v}, text me when you arrive."),
    ("fr", "Vous pouvez me joindre au {v} demain matin."),
    ("fr", "Tél. : {v}"),
    ("es", "Mi teléfono es el {v}, llámame después de las cinco."),
    ("es", "Puede llamar al {v} para confirmar la cita."),
    ("it", "Il mio numero di telefono è {v}."),
    ("it", "Per urgenze chiamare il {v}."),
    ("de", "Melde dich einfach unter {v}, wenn du im Büro bist."),
    ("en", "Best number to reach me: {v}"),
]
T["ipv4"] = [
    ("de", "Der Server mit der IP {v} antwortet seit heute Nacht nicht mehr."),
    ("de", "Bitte die Firewall-Regel für {v} freigeben."),
    ("en", "Login attempts from {v} were blocked by the WAF."),
    ("en", "The printer is reachable at {v} on the office network."),
    ("fr", "L'adresse IP {v} apparaît dans les journaux d'accès."),
    ("es", "La dirección IP {v} aparece en los registros del servidor."),
    ("it", "L'indirizzo {v} risulta bloccato dal firewall."),
]
T["ipv6"] = [
    ("de", "Der Host hat die Adresse {v} im internen Netz."),
    ("en", "Traffic from {v} spiked after the deployment."),
    ("fr", "Le client s'est connecté depuis {v}."),
    ("es", "La conexión venía de {v} según el registro."),
    ("it", "Il dispositivo usa l'indirizzo {v}."),
]
T["mac_address"] = [
    ("de", "Das Notebook mit der MAC-Adresse {v} bitte im WLAN sperren."),
    ("de", "Gerät {v} taucht mehrfach im DHCP-Log auf."),
    ("en", "The MAC address {v} belongs to the laptop of the new intern."),
    ("en", "Please whitelist device {v} on the guest VLAN."),
    ("fr", "L'adresse MAC {v} est enregistrée au nom de l'utilisateur."),
    ("es", "La dirección MAC {v} corresponde al portátil de ventas."),
    ("it", "Il MAC {v} è associato al tablet del magazzino."),
]
T["iban"] = [
    ("de", "Bitte überweisen Sie den Betrag auf IBAN {v} bis zum Monatsende."),
    ("de", "Meine neue Bankverbindung lautet {v}, die alte bitte löschen."),
    ("de", "Die Erstattung geht an das Konto {v} des Antragstellers."),
    ("en", "Please pay the deposit to {v} and reference the booking."),
    ("en", "Our account details changed: IBAN {v}."),
    ("fr", "Merci d'effectuer le virement sur l'IBAN {v}."),
    ("fr", "Mon RIB : {v}"),
    ("es", "Realice la transferencia a la cuenta {v}, por favor."),
    ("es", "El IBAN del proveedor es {v}."),
    ("it", "Il bonifico va effettuato sull'IBAN {v}."),
    ("it", "Coordinate bancarie: {v}"),
]
T["payment_card"] = [
    ("de", "Die Zahlung lief über die Kreditkarte {v}, bitte stornieren."),
    ("de", "Kartennummer {v}, gültig bis 08/27."),
    ("en", "Charge the remaining balance to card {v}."),
    ("en", "My Visa number is {v}, expiry 11/26."),
    ("en", "Card: {v}"),
    ("fr", "Le paiement a été fait avec la carte {v}."),
    ("es", "Pagué con la tarjeta {v} y el cargo aparece dos veces."),
    ("it", "Il numero della carta è {v}, scadenza 05/28."),
]
T["bic"] = [
    ("de", "IBAN siehe Anhang, BIC {v}."),
    ("de", "Bitte geben Sie als BIC {v} an."),
    ("en", "The SWIFT code is {v}."),
    ("en", "Use BIC {v} for international transfers."),
    ("fr", "Code BIC : {v}"),
    ("es", "El código SWIFT/BIC es {v}."),
    ("it", "Il BIC della banca è {v}."),
]
T["vat_id"] = [
    ("de", "Unsere USt-IdNr. lautet {v}."),
    ("de", "Bitte die Rechnung mit der UID {v} neu ausstellen."),
    ("en", "Our VAT number is {v}; please add it to the invoice."),
    ("en", "Supplier VAT ID: {v}"),
    ("fr", "Numéro de TVA intracommunautaire : {v}."),
    ("es", "El NIF-IVA del cliente es {v}."),
    ("it", "La partita IVA comunitaria è {v}."),
    ("nl", "Ons btw-nummer is {v}."),
]
T["de_tax_id"] = [
    ("de", "Meine Steuer-ID lautet {v}."),
    ("de", "Steueridentifikationsnummer des Mitarbeiters: {v}"),
    ("de", "Für die Lohnabrechnung brauche ich noch Ihre steuerliche Identifikationsnummer, laut Unterlagen {v}."),
    ("de", "IdNr. {v} bitte im ELStAM-Verfahren hinterlegen."),
    ("en", "Her German tax ID is {v}."),
    ("de", "Die Identifikationsnummer {v} wurde vom Bundeszentralamt mitgeteilt."),
]
T["de_id_card"] = [
    ("de", "Personalausweisnummer {v}, ausgestellt in Köln."),
    ("de", "Die Ausweisnummer lautet {v}."),
    ("de", "Bitte prüfen Sie den Ausweis {v} bei der Kontoeröffnung."),
    ("en", "The German ID card number is {v}."),
    ("de", "Ausweis-Nr.: {v}"),
]
T["de_pension_number"] = [
    ("de", "Rentenversicherungsnummer: {v}"),
    ("de", "Meine Sozialversicherungsnummer ist {v}, bitte an die Lohnbuchhaltung."),
    ("de", "Die RV-Nummer {v} fehlt noch in der Personalakte."),
    ("en", "His German pension insurance number is {v}."),
    ("de", "Versicherungsnummer {v} laut Sozialversicherungsausweis."),
]
T["de_health_insurance_number"] = [
    ("de", "Krankenversichertennummer {v}, TK."),
    ("de", "Versichertennummer laut eGK: {v}"),
    ("de", "Die Krankenkasse hat die KVNR {v} bestätigt."),
    ("en", "Health insurance number (Germany): {v}"),
    ("de", "Bitte die Versichertennummer {v} auf dem Formular eintragen."),
]
T["at_social_security_number"] = [
    ("de", "Sozialversicherungsnummer: {v}"),
    ("de", "Meine SV-Nummer ist {v}, steht auf der e-card."),
    ("de", "VSNR {v} für die Anmeldung bei der ÖGK."),
    ("en", "Austrian social security number {v}."),
    ("de", "Die Versicherungsnummer {v} bitte im Lohnzettel ergänzen."),
]
T["fr_nir"] = [
    ("fr", "Numéro de sécurité sociale : {v}"),
    ("fr", "Mon numéro de sécu est le {v}, pour la mutuelle."),
    ("fr", "Le NIR {v} figure sur la carte Vitale."),
    ("en", "French social security number: {v}"),
    ("fr", "Merci de compléter le dossier avec le numéro {v}."),
]
T["es_dni"] = [
    ("es", "Mi DNI es {v}."),
    ("es", "Documento Nacional de Identidad: {v}"),
    ("es", "El titular, con DNI {v}, firmó el contrato."),
    ("en", "The Spanish ID number is {v}."),
    ("es", "Adjunto copia del DNI {v} para la matrícula."),
]
T["es_nie"] = [
    ("es", "Mi NIE es {v}."),
    ("es", "Número de identidad de extranjero: {v}"),
    ("es", "La trabajadora, con NIE {v}, empieza el lunes."),
    ("en", "My Spanish NIE is {v}."),
    ("es", "El NIE {v} aparece en la tarjeta de residencia."),
]
T["it_fiscal_code"] = [
    ("it", "Il mio codice fiscale è {v}."),
    ("it", "Codice fiscale del dipendente: {v}"),
    ("it", "Inserire il CF {v} nel modulo F24."),
    ("en", "Italian tax code: {v}"),
    ("it", "La fattura va intestata a {v} come da tessera sanitaria."),
]
T["nl_bsn"] = [
    ("nl", "Mijn BSN is {v}."),
    ("nl", "Burgerservicenummer: {v}"),
    ("nl", "Het burgerservicenummer {v} staat op het paspoort."),
    ("en", "Her Dutch BSN is {v}."),
    ("nl", "Vul het BSN {v} in op het formulier van de gemeente."),
]
T["pl_pesel"] = [
    ("pl", "Mój PESEL to {v}."),
    ("pl", "Numer PESEL pracownika: {v}"),
    ("en", "Polish PESEL: {v}"),
    ("pl", "Proszę wpisać PESEL {v} do formularza."),
    ("de", "Der PESEL der Mitarbeiterin lautet {v}."),
]
T["be_national_number"] = [
    ("nl", "Rijksregisternummer: {v}"),
    ("fr", "Numéro de registre national : {v}"),
    ("fr", "Mon numéro national est le {v}."),
    ("en", "Belgian national number {v}."),
    ("nl", "Het rijksregisternummer {v} staat op de eID."),
]
T["gb_nino"] = [
    ("en", "My National Insurance number is {v}."),
    ("en", "NINO: {v}"),
    ("en", "Please add NI number {v} to the payroll record."),
    ("en", "Employee {v} started on Monday; P45 attached."),
    ("de", "Die britische National Insurance Number lautet {v}."),
]
T["gb_nhs_number"] = [
    ("en", "NHS number: {v}"),
    ("en", "The patient's NHS number is {v}."),
    ("en", "Please quote NHS No. {v} on the referral."),
    ("de", "Die NHS-Nummer des Patienten ist {v}."),
    ("en", "Registered with the GP under NHS number {v}."),
]
T["us_ssn"] = [
    ("en", "My SSN is {v}."),
    ("en", "Social Security Number: {v}"),
    ("en", "Please verify the applicant's social security number {v}."),
    ("en", "SSN {v} is on the W-2 form."),
    ("de", "Die US-Sozialversicherungsnummer (SSN) lautet {v}."),
]


def nino_fmt(v):
    return "%s %s %s %s %s" % (v[:2], v[2:4], v[4:6], v[6:8], v[8]) if rng.random() < 0.4 else v


def nhs_fmt(v):
    return "%s %s %s" % (v[:3], v[3:6], v[6:]) if rng.random() < 0.6 else v


def bsn_fmt(v):
    return "%s.%s.%s" % (v[:4], v[4:6], v[6:]) if rng.random() < 0.2 else v


def at_fmt(v):
    return "%s %s" % (v[:4], v[4:]) if rng.random() < 0.6 else v


def be_fmt(v):
    return P.be_nn_dotted(v) if rng.random() < 0.6 else v


def nir_fmt(v):
    return P.nir_spaced(v) if rng.random() < 0.6 else v


GEN = {
    "email": make_email,
    "phone": make_phone,
    "ipv4": make_ipv4,
    "ipv6": make_ipv6,
    "mac_address": make_mac,
    "iban": make_iban,
    "payment_card": make_card,
    "bic": lambda: pick(BICS),
    "vat_id": make_vat,
    "de_tax_id": lambda: spaced_tax_id(P.make_de_tax_id(rng)),
    "de_id_card": lambda: P.make_de_id_card(rng, rng.random() < 0.7),
    "de_pension_number": lambda: P.make_de_pension(rng),
    "de_health_insurance_number": lambda: P.make_de_kvnr(rng),
    "at_social_security_number": lambda: at_fmt(P.make_at_svnr(rng)),
    "fr_nir": lambda: nir_fmt(P.make_fr_nir(rng, pick([None, None, None, None, "2A", "2B"]))),
    "es_dni": lambda: P.make_es_dni(rng) if rng.random() < 0.8 else (lambda d: d[:8] + "-" + d[8])(P.make_es_dni(rng)),
    "es_nie": lambda: P.make_es_nie(rng),
    "it_fiscal_code": lambda: P.make_it_cf(rng),
    "nl_bsn": lambda: bsn_fmt(P.make_bsn(rng)),
    "pl_pesel": lambda: P.make_pesel(rng),
    "be_national_number": lambda: be_fmt(P.make_be_nn(rng)),
    "gb_nino": lambda: nino_fmt(P.make_nino(rng)),
    "gb_nhs_number": lambda: nhs_fmt(P.make_nhs(rng)),
    "us_ssn": lambda: P.make_ssn(rng),
}
ENTITY = {"ipv4": "ip_address", "ipv6": "ip_address"}


def line(lang, template, value, entity):
    pre, post = template.split("{v}")
    text = pre + value + post
    start = len(pre.encode())
    return {"lang": lang, "text": text,
            "spans": [{"start": start, "end": start + len(value.encode()), "entity": entity}]}


def positives(key, n):
    out = []
    for i in range(n):
        lang, t = T[key][i % len(T[key])]
        out.append(line(lang, t, GEN[key](), ENTITY.get(key, key)))
    return out


def two_in_one():
    """Lines with several identifiers, as in real requests."""
    out = []
    for _ in range(10):
        f, l = pick(FIRST), pick(LAST)
        e, ph, ib = make_email(), make_phone(), make_iban()
        text = "Kontaktdaten von "
        spans = [{"start": len(text.encode()), "end": len(text.encode()) + len(("%s %s" % (f, l)).encode()),
                  "entity": "person"}]
        text += "%s %s: E-Mail " % (f, l)
        for val, ent, after in ((e, "email", ", Telefon "), (ph, "phone", ", IBAN "),
                                (ib, "iban", ".")):
            s = len(text.encode())
            text += val
            spans.append({"start": s, "end": s + len(val.encode()), "entity": ent})
            text += after
        out.append({"lang": "de", "text": text, "spans": spans})
    return out


# ---- near-misses: (lang, template, value generator) ----
def flip_last_digit(v):
    for i in range(len(v) - 1, -1, -1):
        if v[i].isdigit():
            return v[:i] + str((int(v[i]) + rng.randint(1, 9)) % 10) + v[i + 1:]
    return v


def flip_last_letter(v):
    c = v[-1]
    return v[:-1] + pick([x for x in "ABCDEFGHJKLMNPQRSTVWXYZ" if x != c])


def rnd_digits(n, first="123456789"):
    return pick(first) + "".join(pick("0123456789") for _ in range(n - 1))


NM = {}
NM["email"] = [
    ("de", "Schreib mir unter max.mustermann(at)example.de, nicht per Post.", None),
    ("en", "Mention @{v} in the channel so the team sees it.", lambda: ascii_name(pick(FIRST))),
    ("en", "The mail server rejected user@localhost during the test.", None),
    ("de", "Preis: 3 Stück @ {v} EUR netto.", lambda: "%d,%02d" % (rng.randint(1, 99), rng.randint(0, 99))),
    ("en", "Use the placeholder name@domain in the template, not a real address.", None),
    ("fr", "Écrivez à contact [at] exemple [point] fr pour vous désabonner.", None),
    ("es", "El usuario {v}@ no es válido, falta el dominio.", lambda: ascii_name(pick(FIRST))),
    ("it", "Il tag @{v} è stato aggiunto al documento.", lambda: ascii_name(pick(LAST))),
    ("en", "Config line: listen={v}@0.0.0.0:8080", lambda: "worker%d" % rng.randint(1, 9)),
    ("de", "Das Git-Remote git@{v}:team/repo.git funktioniert nicht.", lambda: "gitlab"),
]
NM["phone"] = [
    ("de", "Rechnung Nr. {v} vom 01.02.2024 ist noch offen.", lambda: "%d-%06d" % (rng.randint(2019, 2025), rng.randint(1, 999999))),
    ("de", "Bestellnummer {v} wurde heute versendet.", lambda: "0" + rnd_digits(9)),
    ("de", "Der Termin ist am {v} um 10:30 Uhr.", lambda: "%02d.%02d.%d" % (rng.randint(1, 28), rng.randint(1, 12), rng.randint(2023, 2026))),
    ("en", "Invoice {v} was paid on 2024-03-15.", lambda: "INV-" + rnd_digits(8)),
    ("en", "Order number {v} ships tomorrow.", lambda: rnd_digits(10)),
    ("de", "Der Umsatz lag bei {v} Euro im dritten Quartal.", lambda: "%d.%03d.%03d" % (rng.randint(1, 99), rng.randint(0, 999), rng.randint(0, 999))),
    ("fr", "La facture {v} a été réglée le 12/03/2024.", lambda: "F" + rnd_digits(9)),
    ("es", "El pedido {v} llegará el lunes.", lambda: rnd_digits(9, "6789")),
    ("it", "La fattura n. {v} risulta scaduta.", lambda: "%d/%06d" % (rng.randint(2020, 2025), rng.randint(1, 999999))),
    ("de", "Ticket {v} wurde an die IT weitergeleitet.", lambda: "0" + rnd_digits(10)),
    ("de", "PLZ und Ort: {v} Berlin, Postfach 12 34 56.", lambda: "%05d" % rng.randint(10115, 14199)),
    ("en", "The shipment weighs {v} kg according to the bill of lading.", lambda: "%d %03d" % (rng.randint(1, 99), rng.randint(0, 999))),
]
NM["ip_address"] = [
    ("de", "Bitte auf Version {v} aktualisieren, dort ist der Fehler behoben.", lambda: "%d.%d.%d.%d" % (rng.randint(1, 9), rng.randint(0, 20), rng.randint(0, 20), rng.randint(0, 300))),
    ("en", "The OID {v} identifies the extension.", lambda: "1.3.6.1.4.1.%d" % rng.randint(100, 99999)),
    ("en", "Release {v} fixes the memory leak.", lambda: "%d.%d.%d" % (rng.randint(1, 9), rng.randint(0, 20), rng.randint(0, 20))),
    ("de", "Der Wert {v} ist keine gültige Adresse.", lambda: "%d.%d.%d.%d" % (rng.randint(256, 999), rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))),
    ("fr", "Le document {v} décrit la procédure.", lambda: "%d.%d.%d.%d.%d" % tuple(rng.randint(1, 20) for _ in range(5))),
    ("es", "El artículo {v} del reglamento aplica.", lambda: "%d.%d.%d" % (rng.randint(1, 30), rng.randint(1, 9), rng.randint(1, 9))),
    ("it", "Il paragrafo {v} descrive i requisiti.", lambda: "%d.%d.%d.%d" % (rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 9)) + "a"),
    ("en", "Call std::{v} from the worker thread.", lambda: pick(["vector", "move", "string", "thread"])),
    ("de", "Das Meeting startet um {v} Uhr.", lambda: "%02d:%02d:00" % (rng.randint(8, 18), rng.choice([0, 15, 30, 45]))),
]
NM["mac_address"] = [
    ("de", "Die Aufnahme lief von {v} bis 11:15:30.", lambda: "%02d:%02d:%02d" % (rng.randint(8, 10), rng.randint(10, 59), rng.randint(10, 59))),
    ("en", "Request id {v} failed.", lambda: "%08x-%04x-%04x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(48))),
    ("en", "The prefix {v} is assigned to the vendor.", lambda: ":".join("%02X" % rng.randint(0, 255) for _ in range(3))),
    ("de", "Teilenummer {v} ist nicht mehr lieferbar.", lambda: "-".join("%02d" % rng.randint(10, 99) for _ in range(4))),
    ("fr", "Le code {v} est incomplet.", lambda: ":".join("%02x" % rng.randint(0, 255) for _ in range(5))),
    ("es", "El hash {v} no coincide.", lambda: "%032x" % rng.getrandbits(128)),
    ("it", "Il tempo di gara era {v}.", lambda: "%02d:%02d:%02d.%02d" % (rng.randint(0, 2), rng.randint(10, 59), rng.randint(10, 59), rng.randint(0, 99))),
]
NM["iban"] = [
    ("de", "Die IBAN {v} ist laut Bank ungültig, bitte prüfen.", lambda: (lambda v: P.group4(flip_last_digit(v)))(P.make_iban(rng, "DE"))),
    ("de", "Kontonummer {v} gehört zu einem alten Sparbuch.", lambda: rnd_digits(10)),
    ("en", "IBAN {v} seems to be missing a digit.", lambda: P.make_iban(rng, pick(["DE", "FR", "NL"]))[:-1]),
    ("fr", "L'IBAN {v} a été refusé par la banque.", lambda: flip_last_digit(P.make_iban(rng, "FR"))),
    ("es", "La referencia {v} corresponde al pedido.", lambda: "ES" + rnd_digits(20)),
    ("it", "Il codice {v} non è un IBAN valido.", lambda: flip_last_digit(P.make_iban(rng, "IT"))),
    ("en", "The test value {v} is a template placeholder.", lambda: "DE00 0000 0000 0000 0000 00"),
    ("de", "Artikelnummer {v} ist ausverkauft.", lambda: "DE" + rnd_digits(6) + "X"),
]
NM["payment_card"] = [
    ("de", "Kartennummer {v} wurde abgelehnt (Prüfziffer falsch).", lambda: P.card_grouped(flip_last_digit(P.make_card(rng)))),
    ("en", "Tracking number {v} was delivered.", lambda: rnd_digits(16)[:15] + str((int(P.luhn_check_digit(rnd_digits(15))) + 1) % 10)),
    ("de", "Sendungsnummer {v} liegt im Paketshop.", lambda: "0034" + rnd_digits(16)),
    ("en", "Order {v} was refunded.", lambda: (lambda b: b + P.luhn_check_digit(b))("9" + rnd_digits(14))),
    ("fr", "La référence {v} est indiquée sur le bon.", lambda: P.card_grouped(flip_last_digit(P.make_card(rng)), "-")),
    ("es", "El código de barras {v} no se lee.", lambda: rnd_digits(13)),
    ("it", "Il numero di serie {v} è sul retro.", lambda: (lambda b: b + P.luhn_check_digit(b))("1" + rnd_digits(15))),
]
NM["bic"] = [
    ("de", "Die DEUTSCHE BAHN hat den Zug gestrichen.", None),
    ("en", "The BIC field {v} failed validation.", lambda: pick(["DEUTQQFF", "ABCD12FF", "XXXXXXXX"])),
    ("de", "Bitte GROSSBUCHSTABEN {v} im Formular verwenden.", lambda: pick(["VERWENDEN", "BESTELLT", "ZUSAGEN"])),
    ("en", "Status: {v} by the compliance team.", lambda: pick(["APPROVED", "REJECTED", "ESCALATED"])),
    ("fr", "Le dossier {v} est clos.", lambda: pick(["CLOTURE", "VALIDEES", "ARCHIVEE"])),
    ("es", "El campo BIC quedó vacío: {v}", lambda: pick(["N/A", "-", "PENDIENTE"])),
    ("it", "La sigla {v} indica il reparto.", lambda: pick(["MAGAZZINO", "CONTABIL", "UFFICIOX"])),
]
NM["vat_id"] = [
    ("de", "Die USt-IdNr. {v} wurde vom BZSt als ungültig gemeldet.", lambda: flip_last_digit(P.make_de_vat(rng))),
    ("en", "VAT number {v} has a typo in the check digit.", lambda: bad_vat()),
    ("fr", "Le numéro {v} n'est pas un numéro de TVA.", lambda: "FR" + rnd_digits(9)),
    ("it", "Il codice articolo {v} non esiste.", lambda: "IT" + rnd_digits(8)),
    ("es", "El lote {v} está retenido en aduana.", lambda: "ES" + rnd_digits(6)),
    ("de", "Kundennummer {v} bitte angeben.", lambda: "DE-" + rnd_digits(6)),
    ("nl", "Het btw-nummer {v} is onjuist.", lambda: bad_nl_vat()),
]


def nm_wrong(fn):
    return lambda: flip_last_digit(fn())


NM["de_tax_id"] = [
    ("de", "Die Steuer-ID {v} ist falsch, die Prüfziffer passt nicht.", nm_wrong(lambda: P.make_de_tax_id(rng))),
    ("de", "Rufnummer {v} bitte nicht mehr verwenden.", lambda: "0" + rnd_digits(10), "phone"),
    ("de", "Aktenzeichen {v} im Schreiben des Finanzamts.", lambda: rnd_digits(11)),
    ("en", "Order {v} was cancelled.", lambda: "1234567890" + str(rng.randint(0, 9))),
    ("de", "Steuernummer {v} (nicht die Steuer-ID).", lambda: "%d/%03d/%05d" % (rng.randint(10, 99), rng.randint(100, 999), rng.randint(10000, 99999))),
]
NM["de_id_card"] = [
    ("de", "Ausweisnummer {v} hat eine falsche Prüfziffer.", nm_wrong(lambda: P.make_de_id_card(rng))),
    ("de", "Seriennummer {v} des Routers.", lambda: "A" + rnd_digits(8) + "B"),
    ("en", "Reference {v} in the ticket.", lambda: P.make_de_id_card(rng, False)),
    ("de", "Lieferschein {v} liegt bei.", lambda: "LS" + rnd_digits(8)),
]
NM["de_pension_number"] = [
    ("de", "Die Versicherungsnummer {v} ist ungültig.", nm_wrong(lambda: P.make_de_pension(rng))),
    ("de", "Chargennummer {v} aus der Produktion.", lambda: rnd_digits(8) + "X" + rnd_digits(3)),
    ("en", "Part {v} is out of stock.", lambda: rnd_digits(2) + "%02d13%02d" % (rng.randint(1, 28), rng.randint(50, 99)) + "K" + rnd_digits(3)),
]
NM["de_health_insurance_number"] = [
    ("de", "Versichertennummer {v} wurde abgelehnt (Prüfziffer).", nm_wrong(lambda: P.make_de_kvnr(rng))),
    ("de", "Artikel {v} ist nicht lieferbar.", lambda: P.make_de_kvnr(rng)),
    ("en", "Flight {v} is delayed.", lambda: P.make_de_kvnr(rng)),
    ("de", "Produktcode {v} im Katalog.", lambda: pick("ABCDEFGH") + rnd_digits(9)),
]
NM["at_social_security_number"] = [
    ("de", "SV-Nummer {v} hat eine falsche Prüfziffer.", nm_wrong(lambda: P.make_at_svnr(rng))),
    ("de", "Bestellung {v} ist unterwegs.", lambda: P.make_at_svnr(rng)),
    ("de", "Telefon {v} (Zentrale).", lambda: "0" + rnd_digits(9), "phone"),
    ("en", "Invoice {v} was paid.", lambda: rnd_digits(10)),
]
NM["fr_nir"] = [
    ("fr", "Le numéro de sécurité sociale {v} comporte une erreur de clé.", nm_wrong(lambda: P.make_fr_nir(rng))),
    ("fr", "Numéro de commande {v}.", lambda: rnd_digits(15)),
    ("fr", "Référence client {v}.", lambda: "5" + rnd_digits(14)),
    ("fr", "Le SIRET {v} figure sur la facture.", lambda: rnd_digits(14)),
]
NM["es_dni"] = [
    ("es", "El DNI {v} tiene la letra equivocada.", lambda: flip_last_letter(P.make_es_dni(rng))),
    ("es", "El pedido {v} está en reparto.", lambda: rnd_digits(8)),
    ("es", "Código postal {v} de Madrid.", lambda: "280%02d" % rng.randint(1, 55)),
    ("es", "Referencia {v} del almacén.", lambda: rnd_digits(7) + "A"),
]
NM["es_nie"] = [
    ("es", "El NIE {v} no es correcto, revise la letra.", lambda: flip_last_letter(P.make_es_nie(rng))),
    ("es", "Modelo {v} del catálogo.", lambda: "X" + rnd_digits(6) + "L"),
    ("en", "Part number {v} is discontinued.", lambda: pick("XYZ") + rnd_digits(8)),
]
NM["it_fiscal_code"] = [
    ("it", "Il codice fiscale {v} ha il carattere di controllo sbagliato.", lambda: flip_last_letter(P.make_it_cf(rng))),
    ("it", "Il codice prodotto {v} è esaurito.", lambda: "".join(pick("ABCDEFGHLMNPRSTVZ") for _ in range(6)) + rnd_digits(10)),
    ("en", "License key {v} expired.", lambda: "".join(pick("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(16))),
]
NM["nl_bsn"] = [
    ("nl", "Het BSN {v} klopt niet (elfproef).", lambda: (lambda v: v if not P.nl_11proef(v) else flip_last_digit(v))(flip_last_digit(P.make_bsn(rng)))),
    ("nl", "Ordernummer {v} is verzonden.", lambda: P.make_bsn(rng)),
    ("en", "Invoice {v} is overdue.", lambda: P.make_bsn(rng)),
    ("nl", "Postcode 1012 AB, klantnummer {v}.", lambda: P.make_bsn(rng)),
]
NM["pl_pesel"] = [
    ("pl", "PESEL {v} ma błędną cyfrę kontrolną.", nm_wrong(lambda: P.make_pesel(rng))),
    ("pl", "Numer zamówienia {v} został wysłany.", lambda: P.make_pesel(rng)),
    ("en", "Tracking {v} is in transit.", lambda: P.make_pesel(rng)),
]
NM["be_national_number"] = [
    ("nl", "Het rijksregisternummer {v} is ongeldig.", nm_wrong(lambda: P.make_be_nn(rng))),
    ("fr", "Numéro de commande {v}.", lambda: P.make_be_nn(rng)),
    ("nl", "Factuur {v} betaald.", lambda: rnd_digits(11)),
]
NM["gb_nino"] = [
    ("en", "The reference {v} is not a valid NI number.", lambda: pick(["QQ", "GB", "NK", "DF"]) + rnd_digits(6, "0123456789") + pick("ABCD")),
    ("en", "Part {v} is back-ordered.", lambda: "AB" + rnd_digits(6) + "E"),
    ("en", "Flight {v} to Manchester.", lambda: "BA" + rnd_digits(4)),
    ("en", "Booking code {v}.", lambda: pick(["AB", "CE", "JK"]) + rnd_digits(7)),
]
NM["gb_nhs_number"] = [
    ("en", "NHS number {v} failed the modulus 11 check.", nm_wrong(lambda: P.make_nhs(rng))),
    ("en", "Order {v} was dispatched.", lambda: P.make_nhs(rng)),
    ("en", "Call {v} for the surgery.", lambda: "0" + rnd_digits(9), "phone"),
]
NM["us_ssn"] = [
    ("en", "The SSN {v} is invalid (area number).", lambda: "%03d-%02d-%04d" % (pick([0, 666, 900, 987]), rng.randint(1, 99), rng.randint(1, 9999))),
    ("en", "Part number {v} is on backorder.", lambda: P.make_ssn(rng)),
    ("en", "Case {v} was closed.", lambda: P.make_ssn(rng)),
    ("en", "SSN {v} has an all-zero group.", lambda: "%03d-00-%04d" % (rng.randint(1, 665), rng.randint(1, 9999))),
]


def bad_vat():
    v = make_vat()
    if v.startswith("NL"):
        return bad_nl_vat()
    if v.startswith("FR"):   # the key is in front
        return v[:2] + "%02d" % ((int(v[2:4]) + rng.randint(1, 96)) % 97) + v[4:]
    return flip_last_digit(v)


def nl_vat_mod97(v):
    num = "".join(str(int(c, 36)) for c in "NL" + v)
    return int(num) % 97 == 1


def bad_nl_vat():
    while True:
        v = flip_last_digit(P.make_bsn(rng)) + "B01"
        if not P.nl_11proef(v[:9]) and not nl_vat_mod97(v):
            return "NL" + v


def near_misses(entity, n):
    """Rows may name the entity their value really is (a phone number in
    a look-alike line is labelled as a phone)."""
    out = []
    rows = NM[entity]
    for i in range(n):
        row = rows[i % len(rows)]
        lang, t, fn = row[:3]
        if not fn:
            out.append({"lang": lang, "text": t, "spans": [], "near_miss": entity})
            continue
        l = line(lang, t, fn(), row[3] if len(row) > 3 else entity)
        if len(row) <= 3:
            l["spans"] = []
        l["near_miss"] = entity
        out.append(l)
    return out


FILES = {
    "contact.jsonl": ["email", "phone", "ipv4", "ipv6", "mac_address"],
    "financial.jsonl": ["iban", "payment_card", "bic", "vat_id"],
    "national_id.jsonl": ["de_tax_id", "de_id_card", "de_pension_number", "de_health_insurance_number",
                          "at_social_security_number", "fr_nir", "es_dni", "es_nie", "it_fiscal_code",
                          "nl_bsn", "pl_pesel", "be_national_number", "gb_nino", "gb_nhs_number", "us_ssn"],
}


def main():
    for name, keys in FILES.items():
        lines = []
        for k in keys:
            lines += positives(k, 35 if k in ("ipv4", "ipv6") else 60)
        for k in keys:
            ent = ENTITY.get(k, k)
            if ent in NM and not any(l.get("near_miss") == ent for l in lines):
                lines += near_misses(ent, 60)
        if name == "contact.jsonl":
            lines += two_in_one()
        with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
            for l in lines:
                f.write(json.dumps(l, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
