#!/usr/bin/env python3
"""Generates the labelled corpus of the lexicon entity types:
person.jsonl (person, date_of_birth, postal_address), secret.jsonl (the
secret types) and special.jsonl (GDPR Art. 9 / Art. 10 categories).

Hand-written sentence templates in DE/EN/FR/ES/IT with slots; every slot
that is personal data carries its span (byte offsets of the UTF-8 text), so
a line labels every entity it contains, not only the one it is written for.
Near-misses carry "near_miss": <entity> and no span of that entity.
The templates were written from how such text looks in mail, tickets and
chat, including forms the detectors are known to miss (recall is measured,
not assumed). Deterministic: run it again and the files are identical.

    /usr/bin/python3 tests/data/pii/gen_lexicon.py tests/data/pii
"""
import base64
import json
import os
import random
import re
import string
import sys

R = random.Random(20261123)
LANGS = ["de", "en", "fr", "es", "it"]

# ---- names: most from common lists, some deliberately rare (not in the
# detector's given-name lexicon) so that recall reflects real mail ----
GIVEN = {
    "de": ["Thomas", "Sabine", "Jürgen", "Katrin", "Stefan", "Monika", "Lukas", "Johanna",
           "Wiebke", "Hauke", "Ottilie", "Gunnar", "Friederike", "Anton", "Greta"],
    "en": ["James", "Sarah", "Michael", "Emily", "David", "Rachel", "Oliver", "Chloe",
           "Tamsin", "Rhys", "Imogen", "Declan", "Harriet", "Gareth", "Megan"],
    "fr": ["Pierre", "Camille", "Nicolas", "Élodie", "François", "Céline", "Julien",
           "Margaux", "Gaspard", "Apolline", "Bérénice", "Loïc", "Hélène", "Yannick", "Manon"],
    "es": ["Javier", "Lucía", "Alejandro", "Carmen", "Pablo", "Marta", "Sergio", "Beatriz",
           "Iker", "Maite", "Xabier", "Nerea", "Rocío", "Gonzalo", "Ainhoa"],
    "it": ["Giuseppe", "Giulia", "Marco", "Francesca", "Luca", "Chiara", "Matteo", "Alessia",
           "Ludovico", "Ilaria", "Ottavio", "Benedetta", "Tancredi", "Serena", "Davide"],
}
SURNAME = {
    "de": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann",
           "Schäfer", "Koch", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Zimmermann",
           "Krüger", "Hartmann", "Lange", "Werner", "Lehmann", "Köhler", "Brandt", "Haas"],
    "en": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
           "Robinson", "Wright", "Thompson", "Evans", "Walker", "Hughes", "Edwards", "Green",
           "O'Connor", "Hall", "Clarke", "Jackson", "Turner", "Harrison", "Cooper", "Ward"],
    "fr": ["Martin", "Bernard", "Dubois", "Durand", "Lefebvre", "Leroy", "Moreau", "Laurent",
           "Simon", "Michel", "Lefèvre", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin",
           "Boyer", "Chevalier", "Mercier", "Dupont", "Lambert", "Bonnet", "Fontaine", "Girard"],
    "es": ["García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez",
           "Pérez", "Gómez", "Ruiz", "Hernández", "Jiménez", "Díaz", "Moreno", "Álvarez",
           "Romero", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil", "Serrano", "Molina"],
    "it": ["Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
           "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
           "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani"],
}
TITLE_M = {"de": ["Herr", "Herrn", "Herr Dr.", "Hr."], "en": ["Mr", "Mr.", "Dr", "Dr."],
           "fr": ["M.", "Monsieur", "Dr"], "es": ["Sr.", "Señor", "Don"],
           "it": ["Sig.", "Signor", "Dott."]}
TITLE_F = {"de": ["Frau", "Frau Dr.", "Fr.", "Frau Prof."], "en": ["Ms", "Mrs", "Ms.", "Dr."],
           "fr": ["Mme", "Madame", "Mlle"], "es": ["Sra.", "Señora", "Doña"],
           "it": ["Sig.ra", "Signora", "Dott.ssa"]}
CITY_DE = [("10115", "Berlin"), ("80331", "München"), ("50667", "Köln"), ("20095", "Hamburg"),
           ("60311", "Frankfurt am Main"), ("70173", "Stuttgart"), ("04109", "Leipzig"),
           ("01067", "Dresden"), ("30159", "Hannover"), ("90402", "Nürnberg"),
           ("1010", "Wien"), ("5020", "Salzburg"), ("8010", "Graz"), ("8001", "Zürich"),
           ("3011", "Bern"), ("4051", "Basel")]
STREET_DE = ["Hauptstraße", "Bahnhofstraße", "Goethestraße", "Schillerstr.", "Gartenweg",
             "Lindenallee", "Marktplatz", "Kirchgasse", "Mühlenweg", "Berliner Straße",
             "Mariahilfer Straße", "Rosenweg", "Am Ring", "Schulstraße", "Ringstraße",
             "Uferweg", "Kaiserdamm", "Schlossplatz", "Ahornweg", "Feldstraße"]
STREET_IT = [("Via Roma", "00184", "Roma"), ("Via Giuseppe Garibaldi", "20121", "Milano"),
             ("Corso Vittorio Emanuele", "10121", "Torino"), ("Piazza Navona", "00186", "Roma"),
             ("Viale dei Mille", "50131", "Firenze")]
STREET_ES = [("Calle Mayor", "28013", "Madrid"), ("Avenida de la Constitución", "41004", "Sevilla"),
             ("Calle de Alcalá", "28014", "Madrid"), ("Paseo de Gracia", "08007", "Barcelona"),
             ("Plaza Mayor", "37002", "Salamanca")]
STREET_FR = [("rue de la Paix", "75002", "Paris"), ("avenue Jean Jaurès", "69007", "Lyon"),
             ("boulevard Haussmann", "75009", "Paris"), ("rue Nationale", "59000", "Lille"),
             ("chemin des Vignes", "13100", "Aix")]
MONTHS = {"de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
                 "September", "Oktober", "November", "Dezember"],
          "en": ["January", "February", "March", "April", "May", "June", "July", "August",
                 "September", "October", "November", "December"],
          "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                 "septembre", "octobre", "novembre", "décembre"],
          "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                 "septiembre", "octubre", "noviembre", "diciembre"],
          "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
                 "agosto", "settembre", "ottobre", "novembre", "dicembre"]}
COMPANY = ["Nordlicht Logistik GmbH", "Acme Tools AG", "Brightwave Ltd", "Soluciones Iberia SL",
           "Tecnodata Srl", "Atelier Lumière SARL", "Kessler Maschinenbau KG"]


def given(lang):
    return R.choice(GIVEN[lang])


def sur(lang):
    return R.choice(SURNAME[lang])


def date_parts():
    y = R.randint(1941, 2004)
    m = R.randint(1, 12)
    d = R.randint(1, 28)
    return d, m, y


def fmt_date(lang, d, m, y, style=None):
    style = style if style is not None else R.randint(0, 3)
    if style == 0:
        return {"de": "%02d.%02d.%d", "en": "%02d/%02d/%d", "fr": "%02d/%02d/%d",
                "es": "%02d/%02d/%d", "it": "%02d/%02d/%d"}[lang] % (d, m, y)
    if style == 1:
        return "%d-%02d-%02d" % (y, m, d)
    mn = MONTHS[lang][m - 1]
    return {"de": "%d. %s %d" % (d, mn, y), "en": "%s %d, %d" % (mn, d, y) if style == 2 else "%d %s %d" % (d, mn, y),
            "fr": "%d %s %d" % (d, mn, y), "es": "%d de %s de %d" % (d, mn, y),
            "it": "%d %s %d" % (d, mn, y)}[lang]


def address(lang):
    k = R.random()
    if lang == "it" and k < 0.6:
        st, pc, town = R.choice(STREET_IT)
        return "%s %d, %s %s" % (st, R.randint(1, 120), pc, town)
    if lang == "es" and k < 0.6:
        st, pc, town = R.choice(STREET_ES)
        return "%s %d, %s %s" % (st, R.randint(1, 120), pc, town)
    if lang == "fr" and k < 0.6:
        st, pc, town = R.choice(STREET_FR)
        return "%d %s, %s %s" % (R.randint(1, 120), st, pc, town)
    st = R.choice(STREET_DE)
    pc, town = R.choice(CITY_DE)
    num = str(R.randint(1, 150)) + R.choice(["", "", "", "a", "b"])
    sep = R.choice([", ", ", ", "\n", ", D-" if len(pc) == 5 else ", "])
    return "%s %s%s%s %s" % (st, num, sep, pc, town)


# ---- the template engine: "{slot}" is filled by SLOTS[slot](lang) which
# returns (text, entity or None) ----
def s_pf(lang):
    return ("%s %s" % (given(lang), sur(lang)), "person")


def s_ps(lang):
    return (sur(lang), "person")


def s_tm(lang):
    return (R.choice(TITLE_M[lang]), None)


def s_tf(lang):
    return (R.choice(TITLE_F[lang]), None)


def s_dob(lang):
    return (fmt_date(lang, *date_parts()), "date_of_birth")


def s_date(lang):
    return (fmt_date(lang, R.randint(1, 28), R.randint(1, 12), R.randint(2019, 2026)), None)


def s_addr(lang):
    return (address(lang), "postal_address")


def s_company(lang):
    return (R.choice(COMPANY), None)


def s_num(lang):
    return (str(R.randint(10000, 99999)), None)


SLOTS = {"PF": s_pf, "PS": s_ps, "TM": s_tm, "TF": s_tf, "DOB": s_dob, "DATE": s_date,
         "ADDR": s_addr, "CO": s_company, "NUM": s_num}


def render(lang, tpl, extra=None):
    """extra: slot name -> (text, entity) for the slot under test."""
    text = ""
    spans = []
    pos = 0
    for m in re.finditer(r"\{(\w+)\}", tpl):
        text += tpl[pos:m.start()]
        pos = m.end()
        name = m.group(1)
        val, ent = extra[name] if extra and name in extra else SLOTS[name](lang)
        start = len(text.encode())
        text += val
        if ent:
            spans.append({"start": start, "end": len(text.encode()), "entity": ent})
    text += tpl[pos:]
    return text, spans


def rec(lang, text, spans, near=None):
    r = {"lang": lang, "text": text, "spans": spans}
    if near:
        r["near_miss"] = near
        assert all(s["entity"] != near for s in spans), text
    return r


def cycle(templates, n):
    """n (lang, template) pairs, going round the languages."""
    out = []
    by_lang = {l: [t for (ll, t) in templates if ll == l] for l in LANGS}
    i = 0
    while len(out) < n:
        lang = LANGS[i % len(LANGS)]
        if by_lang[lang]:
            out.append((lang, by_lang[lang][(i // len(LANGS)) % len(by_lang[lang])]))
        i += 1
    return out


# ---------------------------------------------------------------- people
PERSON_POS = [
    ("de", "Bitte leiten Sie die Unterlagen an {TM} {PS} weiter."),
    ("de", "{TF} {PS} hat den Termin auf Donnerstag verschoben."),
    ("de", "Gestern hat {PF} die Bestellung storniert."),
    ("de", "Ansprechpartner: {PF}, Einkauf"),
    ("de", "Mit freundlichen Grüßen\n{PF}\n{CO}"),
    ("de", "Kannst du {PF} fragen, ob die Rechnung schon raus ist?"),
    ("de", "Die Patientin {PS} klagt über Rückenschmerzen."),
    ("de", "Viele Grüße, {PF}"),
    ("de", "Name: {PF}\nAbteilung: Vertrieb"),
    ("de", "Laut {TM} {PF} ist das Angebot noch gültig."),
    ("en", "Please send the contract to {TM} {PS} by Friday."),
    ("en", "{TF} {PS} will join the call at 3 pm."),
    ("en", "I spoke with {PF} about the renewal yesterday."),
    ("en", "Best regards,\n{PF}"),
    ("en", "Kind regards,\n{PF}\nHead of Procurement, {CO}"),
    ("en", "Full name: {PF}"),
    ("en", "Our employee {PF} reported the incident."),
    ("en", "Can you ask {PF} whether the invoice was paid?"),
    ("en", "Contact person: {PF} ({CO})"),
    ("fr", "Merci de transmettre le dossier à {TM} {PS}."),
    ("fr", "{TF} {PS} a confirmé la livraison."),
    ("fr", "J'ai parlé avec {PF} hier soir."),
    ("fr", "Cordialement,\n{PF}"),
    ("fr", "Nom : {PF}"),
    ("fr", "Le rendez-vous avec {PF} est reporté."),
    ("es", "Por favor, envíe la factura a {TM} {PS}."),
    ("es", "La {TF} {PS} llamó esta mañana."),
    ("es", "Ayer hablé con {PF} sobre el pedido."),
    ("es", "Saludos,\n{PF}"),
    ("es", "Nombre: {PF}"),
    ("es", "Atentamente,\n{PF}\n{CO}"),
    ("it", "Si prega di inoltrare il documento al {TM} {PS}."),
    ("it", "La {TF} {PS} ha approvato il preventivo."),
    ("it", "Ho parlato con {PF} della consegna."),
    ("it", "Cordiali saluti,\n{PF}"),
    ("it", "Nome: {PF}"),
    ("it", "Il paziente {PS} è stato dimesso ieri."),
]
PERSON_NEAR = [
    ("de", "Sehr geehrte Damen und Herren, anbei die Preisliste."),
    ("de", "Die Frau am Empfang hat das Paket angenommen."),
    ("de", "Wir müssen wieder Herr der Lage werden."),
    ("de", "Mit freundlichen Grüßen\nIhr Kundenservice"),
    ("de", "Bitte senden Sie das Formular an die Personalabteilung."),
    ("de", "Der Kunde hat die Lieferung am {DATE} reklamiert."),
    ("de", "Name: bitte in Druckbuchstaben ausfüllen"),
    ("de", "Die Mitarbeiter der Filiale Nord bekommen neue Laptops."),
    ("de", "Projekt Phoenix startet im Mai, Budget {NUM} EUR."),
    ("de", "Viele Grüße aus dem Team Buchhaltung"),
    ("en", "Dear Sir or Madam, please find the price list attached."),
    ("en", "The new Apple Watch ships in September."),
    ("en", "Best regards,\nthe support team"),
    ("en", "Our employees can book rooms via the portal."),
    ("en", "Name: to be filled in by the applicant"),
    ("en", "Customer Success will review ticket {NUM} tomorrow."),
    ("en", "The Golden Gate Bridge was closed for maintenance."),
    ("en", "Send the report to Finance before the board meeting."),
    ("fr", "Madame, Monsieur, veuillez trouver ci-joint le devis."),
    ("fr", "Cordialement,\nle service client"),
    ("fr", "La Tour Eiffel sera fermée lundi."),
    ("fr", "Nom : à compléter par le salarié"),
    ("fr", "Le Conseil d'Administration se réunit jeudi."),
    ("es", "Estimados señores, adjuntamos la oferta."),
    ("es", "Saludos,\nel equipo de soporte"),
    ("es", "La Sagrada Familia recibe millones de visitas."),
    ("es", "Nombre: rellenar con mayúsculas"),
    ("es", "El Banco Central publicó nuevos datos."),
    ("it", "Gentili Signori, in allegato il preventivo."),
    ("it", "Cordiali saluti,\nl'ufficio acquisti"),
    ("it", "La Galleria degli Uffizi apre alle nove."),
    ("it", "Nome: da compilare a cura del cliente"),
    ("it", "Il Consiglio Comunale ha approvato il bilancio."),
    # hard ones: brands and places that look like names
    ("de", "Im Kühlregal liegt noch eine Dr. Oetker Pizza."),
    ("en", "We stayed at the Grand Hotel Europa."),
    ("es", "Don Quijote de la Mancha es una novela."),
]

DOB_POS = [
    ("de", "{TF} {PS}, geb. {DOB}, wohnhaft in Köln."),
    ("de", "Geburtsdatum: {DOB}"),
    ("de", "{PF} (geb. am {DOB}) hat den Antrag gestellt."),
    ("de", "Der Versicherte wurde am {DOB} geboren."),
    ("de", "Mitarbeiterin {PS}, geboren am {DOB}, Eintritt 2019."),
    ("en", "Patient {PS}, DOB: {DOB}, was admitted on Monday."),
    ("en", "{PF} was born on {DOB} in Manchester."),
    ("en", "Date of birth: {DOB}"),
    ("en", "Applicant's date of birth is {DOB}."),
    ("fr", "{TF} {PS}, née le {DOB} à Lyon."),
    ("fr", "Date de naissance : {DOB}"),
    ("fr", "{TM} {PS}, né le {DOB}, demande un duplicata."),
    ("es", "{TF} {PS}, nacida el {DOB} en Sevilla."),
    ("es", "Fecha de nacimiento: {DOB}"),
    ("es", "El solicitante, nacido el {DOB}, reside en Madrid."),
    ("it", "{TF} {PS}, nata il {DOB} a Napoli."),
    ("it", "Data di nascita: {DOB}"),
    ("it", "Il dipendente, nato a Torino il {DOB}, è stato assunto."),
]
DOB_NEAR = [
    ("de", "Rechnungsdatum: {DATE}, zahlbar binnen 14 Tagen."),
    ("de", "Die Lieferung erfolgt am {DATE}."),
    ("de", "Die Firma wurde am {DATE} ins Handelsregister eingetragen."),
    ("de", "Geburtsdatum: bitte im Format TT.MM.JJJJ angeben."),
    ("de", "Geburtsdatum: 31.02.1985 ist kein gültiges Datum."),
    ("de", "Die Idee wurde geboren, als das Projekt am {DATE} startete, nicht vorher."),
    ("en", "Invoice date: {DATE}, due in 30 days."),
    ("en", "The release was born out of customer feedback; it ships {DATE}."),
    ("en", "DOB field must use the format YYYY-MM-DD."),
    ("en", "The meeting on {DATE} was cancelled."),
    ("fr", "Date de facture : {DATE}."),
    ("fr", "La livraison est prévue le {DATE}."),
    ("fr", "Date de naissance : à renseigner."),
    ("es", "Fecha de factura: {DATE}."),
    ("es", "La reunión del {DATE} se canceló."),
    ("es", "Fecha de nacimiento: campo obligatorio."),
    ("it", "Data fattura: {DATE}."),
    ("it", "La consegna è prevista per il {DATE}."),
    ("it", "Data di nascita: campo obbligatorio."),
]

ADDR_POS = [
    ("de", "Bitte liefern Sie an {ADDR}."),
    ("de", "Lieferadresse: {ADDR}"),
    ("de", "{TF} {PS} wohnt in der {ADDR}."),
    ("de", "Neue Anschrift ab 1. Mai: {ADDR}"),
    ("en", "Ship to: {ADDR}"),
    ("en", "Our office moved to {ADDR} last month."),
    ("en", "Please update my address to {ADDR}."),
    ("fr", "Adresse de livraison : {ADDR}"),
    ("fr", "Le siège est situé au {ADDR}."),
    ("fr", "Merci d'envoyer le colis au {ADDR}."),
    ("es", "Dirección de entrega: {ADDR}"),
    ("es", "La oficina está en {ADDR}."),
    ("es", "Envíe el paquete a {ADDR}, por favor."),
    ("it", "Indirizzo di consegna: {ADDR}"),
    ("it", "La sede si trova in {ADDR}."),
    ("it", "Spedire a {ADDR} entro venerdì."),
]
ADDR_NEAR = [
    ("de", "Die Hauptstraße ist wegen Bauarbeiten gesperrt."),
    ("de", "Am Marktplatz 3 Stände sind noch frei."),
    ("de", "Der Ringweg 2024 wurde neu asphaltiert."),
    ("de", "Bestellung {NUM} geht an das Lager Berlin."),
    ("de", "Die Bahnhofstraße 12 Geschäfte haben geöffnet."),
    ("de", "PLZ 10115 gehört zu Berlin-Mitte."),
    ("de", "Der Rundweg ist 5 km lang."),
    ("en", "Main Street is closed due to roadworks."),
    ("en", "Order {NUM} ships from the Hamburg warehouse."),
    ("en", "The store on Baker Street opens at 9."),
    ("en", "Route 66 is 3940 km long."),
    ("fr", "La rue est fermée pour travaux jusqu'au 12 mai."),
    ("fr", "Le colis {NUM} part de l'entrepôt de Lyon."),
    ("fr", "Rendez-vous place de la République à 18 h."),
    ("es", "La calle está cortada por obras."),
    ("es", "El pedido {NUM} sale del almacén de Madrid."),
    ("es", "Quedamos en la Plaza Mayor a las 8."),
    ("it", "La piazza è chiusa per lavori."),
    ("it", "L'ordine {NUM} parte dal magazzino di Milano."),
    ("it", "Ci vediamo in Piazza del Duomo alle 18."),
]


def person_corpus():
    out = []
    for lang, t in cycle(PERSON_POS, 75):
        out.append(rec(lang, *render(lang, t)))
    for lang, t in cycle(PERSON_NEAR, 60):
        out.append(rec(lang, *render(lang, t), near="person"))
    for lang, t in cycle(DOB_POS, 60):
        out.append(rec(lang, *render(lang, t)))
    for lang, t in cycle(DOB_NEAR, 55):
        out.append(rec(lang, *render(lang, t), near="date_of_birth"))
    for lang, t in cycle(ADDR_POS, 60):
        out.append(rec(lang, *render(lang, t)))
    for lang, t in cycle(ADDR_NEAR, 55):
        out.append(rec(lang, *render(lang, t), near="postal_address"))
    return out


# ---------------------------------------------------------------- secrets
ALNUM = string.ascii_letters + string.digits
B64URL = ALNUM + "-_"


def rnd(chars, n):
    return "".join(R.choice(chars) for _ in range(n))


def b64url(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def pem_key():
    label = R.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY",
                      "ENCRYPTED PRIVATE KEY"])
    body = base64.b64encode(bytes(R.getrandbits(8) for _ in range(R.randint(90, 300)))).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN %s-----\n%s\n-----END %s-----" % (label, "\n".join(lines), label)


def jwt():
    h = b64url({"alg": R.choice(["HS256", "RS256", "ES256"]), "typ": "JWT"})
    p = b64url({"sub": str(R.randint(10 ** 6, 10 ** 9)), "iat": R.randint(1600000000, 1800000000),
                "role": R.choice(["admin", "user", "svc"])})
    return "%s.%s.%s" % (h, p, rnd(B64URL, 43))


SECRET_GEN = {
    "private_key": pem_key,
    "jwt": jwt,
    "aws_access_key": lambda: R.choice(["AKIA", "ASIA"]) + rnd(string.ascii_uppercase + "234567", 16),
    "github_token": lambda: (R.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]) + rnd(ALNUM, 36))
    if R.random() < 0.8 else "github_pat_" + rnd(ALNUM + "_", 82),
    "gitlab_token": lambda: "glpat-" + rnd(B64URL, 20),
    "slack_token": lambda: R.choice(["xoxb-", "xoxp-", "xoxa-"]) + "%d-%d-%s" % (
        R.randint(10 ** 9, 10 ** 12), R.randint(10 ** 9, 10 ** 12), rnd(ALNUM, 24)),
    "openai_key": lambda: ("sk-" + rnd(ALNUM, 48)) if R.random() < 0.4 else "sk-proj-" + rnd(B64URL, 64),
    "google_api_key": lambda: "AIza" + rnd(B64URL, 35),
    "azure_storage_key": lambda: base64.b64encode(bytes(R.getrandbits(8) for _ in range(64))).decode(),
}

SECRET_TPL = {
    "de": ["Hier ist der Schlüssel: {S}", "Warum funktioniert {S} nicht mehr?",
           "Bitte prüfe die Konfiguration:\n{S}\nDanke!", "Der Token lautet {S}, gültig bis Freitag."],
    "en": ["Here is the key: {S}", "Why does {S} return 401?", "Config below:\n{S}\nthanks",
           "I pasted {S} into the settings, is that right?"],
    "fr": ["Voici la clé : {S}", "Pourquoi {S} ne marche plus ?", "Configuration :\n{S}\nmerci"],
    "es": ["Aquí está la clave: {S}", "¿Por qué {S} devuelve un error?", "Configuración:\n{S}\ngracias"],
    "it": ["Ecco la chiave: {S}", "Perché {S} non funziona?", "Configurazione:\n{S}\ngrazie"],
}
SECRET_WRAP = {
    "aws_access_key": ["aws_access_key_id = {S}", "AWS_ACCESS_KEY_ID={S}"],
    "gitlab_token": ["GITLAB_TOKEN={S}", "export CI_TOKEN={S}"],
    "openai_key": ["OPENAI_API_KEY={S}", "export OPENAI_API_KEY=\"{S}\""],
    "google_api_key": ["https://maps.googleapis.com/maps/api/geocode/json?key={S}"],
    "jwt": ["Authorization: Bearer {S}"],
    "azure_storage_key": ["DefaultEndpointsProtocol=https;AccountName=acmestore;AccountKey={S};EndpointSuffix=core.windows.net",
                          "az storage blob upload --account-name acme --account-key {S} -f a.txt",
                          "export AZURE_STORAGE_KEY=\"{S}\""],
}

SECRET_NEAR = {
    "private_key": ["-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END PUBLIC KEY-----",
                    "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n-----END CERTIFICATE-----",
                    "Paste your key between -----BEGIN PRIVATE KEY----- and -----END PRIVATE KEY-----.",
                    "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
                    "The file must start with -----BEGIN OPENSSH PRIVATE KEY-----"],
    "jwt": ["eyJhbGciOiJIUzI1NiJ9 is only the header",
            "eyJub3QiOiJqd3QifQ.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl",
            "A JWT looks like xxxxx.yyyyy.zzzzz",
            "Authorization: Bearer <token>",
            "eyJ is the base64 of {\" and nothing more"],
    "aws_access_key": ["AKIAIOSFODNN7EXAMPLE", "AKIAXXXXXXXXXXXXXXXX", "AKIA1234",
                       "aws_access_key_id = <your key>", "Die Asia-Pacific-Region ASIAPAC01 ist voll."],
    "github_token": ["ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ghp_1234", "github_pat_<your token>",
                     "ghp_ prefixed tokens are classic PATs", "gho_abc is too short"],
    "gitlab_token": ["glpat-xxxxxxxxxxxxxxxxxxxx", "glpat-<token>", "glpat-123",
                     "Tokens start with glpat- followed by 20 characters"],
    "slack_token": ["xoxb-your-token-here", "xoxb-123", "xoxb-xxxxxxxxxxxx-xxxxxxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx",
                    "Slack bot tokens begin with xoxb-."],
    "openai_key": ["sk-...", "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
                   "pip install sk-learn", "sk-proj-<your key>", "The sk- prefix marks secret keys."],
    "google_api_key": ["AIzaSy...", "key=AIzaXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "AIza is the Google prefix",
                       "key=YOUR_API_KEY"],
    "azure_storage_key": ["AccountKey=<your-key>;", "AccountKey=;EndpointSuffix=core.windows.net",
                          "AccountKey=xxxxxxxx==", "Set AccountKey in the connection string."],
}
SECRET_NEAR_TPL = {
    "de": ["Beispiel aus der Doku: {S}", "Ist {S} ein gültiges Format?", "Platzhalter: {S}"],
    "en": ["Example from the docs: {S}", "Is {S} a valid format?", "Placeholder: {S}"],
    "fr": ["Exemple de la documentation : {S}", "Est-ce que {S} est valide ?"],
    "es": ["Ejemplo de la documentación: {S}", "¿Es {S} un formato válido?"],
    "it": ["Esempio dalla documentazione: {S}", "{S} è un formato valido?"],
}

PASSWORD_VALUES = ["Sommer2024!", "K8#mq!2zLp", "Tr0ub4dor&3x", "hunter2xY", "P@ssw0rd!91",
                   "Winter#2025", "qR7$vLm2", "BlueHorse77!", "z9Xk!m3Q", "Mandarine-84"]
PASSWORD_TPL = [
    ("de", "Das Passwort: {P}"), ("de", "Passwort für den Server ist \"{P}\", bitte nicht weitergeben."),
    ("de", "DB_PASSWORD={P}"), ("en", "password: {P}"), ("en", "The admin password is '{P}'."),
    ("en", "Server=sql01;Database=crm;User Id=sa;Password={P};"),
    ("en", "DATABASE_URL=postgres://app:{P}@db.internal:5432/app"),
    ("fr", "Le mot de passe : {P}"), ("fr", "mysql://root:{P}@sql-backup/ventes"),
    ("es", "La contraseña: {P}"), ("es", "password = \"{P}\""),
    ("it", "La password: {P}"), ("it", "ftp://backup:{P}@nas.local/archivio"),
]
PASSWORD_NEAR = [
    ("de", "Passwort: vergessen? Klicken Sie hier."), ("de", "password=changeme"),
    ("de", "Bitte das Passwort nach dem ersten Login ändern."), ("de", "Passwort: ********"),
    ("en", "password: <your password>"), ("en", "Reset your password via the portal."),
    ("en", "postgres://app:${DB_PASSWORD}@db.internal/app"), ("en", "password = os.environ['DB_PASS']"),
    ("en", "The password is required."), ("en", "Password: xxxxxxxx"),
    ("fr", "Mot de passe oublié ?"), ("fr", "mot de passe : à définir"),
    ("es", "¿Olvidó su contraseña?"), ("es", "contraseña: ********"),
    ("it", "Password dimenticata?"), ("it", "password: {{ vault_password }}"),
    ("en", "https://user@example.com/path"), ("en", "Use the PASSWORD environment variable."),
]
GENERIC_TPL = [
    ("en", "client_secret: {G}"), ("en", "api_key = \"{G}\""), ("en", "SECRET={G}"),
    ("de", "Der api_key lautet: {G}"), ("de", "token: {G}"), ("fr", "secret : {G}"),
    ("es", "access_key={G}"), ("it", "Il token è: {G}"), ("en", "webhook secret: {G}"),
]
GENERIC_NEAR = [
    ("en", "secret: production-cluster-name"), ("en", "token: <insert token here>"),
    ("en", "api_key = ${API_KEY}"), ("en", "The secret is to start early."),
    ("de", "Das Geheimnis ist Geduld; secret: geheim"), ("de", "token: siehe Vault"),
    ("fr", "secret : à compléter"), ("es", "token: 1234567890123456"),
    ("it", "api_key: YOUR_API_KEY_HERE"), ("en", "token = get_token(user)"),
    ("en", "secret: aaaaaaaaaaaaaaaaaaaa"), ("en", "Bearer token authentication is supported."),
]


def generic_value():
    return rnd(ALNUM, R.randint(24, 40))


def secret_corpus():
    out = []
    for ent, gen in SECRET_GEN.items():
        for i in range(55):
            lang = LANGS[i % 5]
            val = gen()
            wraps = SECRET_WRAP.get(ent)
            if wraps and (i % 2 == 0 or ent == "azure_storage_key"):
                inner = R.choice(wraps).replace("{S}", val)
                start = inner.index(val)
                tpl = R.choice(SECRET_TPL[lang]).split("{S}")
                text = tpl[0] + inner + tpl[1]
                s = len((tpl[0] + inner[:start]).encode())
            else:
                tpl = R.choice(SECRET_TPL[lang]).split("{S}")
                text = tpl[0] + val + tpl[1]
                s = len(tpl[0].encode())
            out.append(rec(lang, text, [{"start": s, "end": s + len(val.encode()), "entity": ent}]))
        nears = SECRET_NEAR[ent]
        for i in range(52):
            lang = LANGS[i % 5]
            tpl = SECRET_NEAR_TPL[lang][(i // 5) % len(SECRET_NEAR_TPL[lang])]
            out.append(rec(lang, tpl.replace("{S}", nears[i % len(nears)]), [], near=ent))
    for i, (lang, tpl) in enumerate(cycle(PASSWORD_TPL, 60)):
        pw = PASSWORD_VALUES[i % len(PASSWORD_VALUES)] + (str(i) if i >= len(PASSWORD_VALUES) else "")
        out.append(rec(lang, *render(lang, tpl.replace("{P}", "{X}"), {"X": (pw, "password")})))
    for i, (lang, tpl) in enumerate(cycle(PASSWORD_NEAR, 54)):
        out.append(rec(lang, tpl, [], near="password"))
    for i, (lang, tpl) in enumerate(cycle(GENERIC_TPL, 55)):
        out.append(rec(lang, *render(lang, tpl.replace("{G}", "{X}"), {"X": (generic_value(), "generic_secret")})))
    for i, (lang, tpl) in enumerate(cycle(GENERIC_NEAR, 52)):
        out.append(rec(lang, tpl, [], near="generic_secret"))
    return out


# ---------------------------------------------------------------- special categories
# (subject template with {T} = the term, which is labelled) per category;
# subjects mix pronouns, kinship words, roles and names
SPECIAL_POS = {
    "health": [
        ("de", "Meine Tochter hat seit 2019 {T}.", ["Diabetes", "Asthma", "Epilepsie"]),
        ("de", "{TF} {PS} ist seit März {T}.", ["krankgeschrieben", "schwanger", "arbeitsunfähig"]),
        ("de", "Ich nehme täglich {T} gegen meine Beschwerden.", ["Metformin", "Insulin", "Sertralin"]),
        ("de", "Bei der Patientin wurde {T} festgestellt.", ["Brustkrebs", "eine Depression", "Demenz"]),
        ("en", "My husband was {T} last year.", ["diagnosed with cancer", "diagnosed with bipolar disorder", "diagnosed with multiple sclerosis"]),
        ("en", "She has been on {T} for two months.", ["sick leave", "antidepressants", "chemotherapy"]),
        ("en", "{TM} {PS} uses a {T} since the accident.", ["wheelchair"]),
        ("fr", "Mon fils souffre d'{T} depuis l'enfance.", ["asthme", "épilepsie"]),
        ("fr", "Elle est {T} de cinq mois.", ["enceinte"]),
        ("fr", "Je suis en {T} jusqu'à vendredi.", ["arrêt maladie"]),
        ("es", "Mi madre tiene {T} desde hace años.", ["diabetes", "cáncer", "esclerosis múltiple"]),
        ("es", "Ella está {T} de seis meses.", ["embarazada"]),
        ("es", "El paciente {PS} sufre {T}.", ["depresión", "epilepsia"]),
        ("it", "Mia figlia ha il {T}.", ["diabete", "cancro"]),
        ("it", "Lei è {T} al quinto mese.", ["incinta"]),
        ("it", "Io prendo {T} ogni mattina.", ["insulina", "litio"]),
    ],
    "religion": [
        ("de", "Ich bin {T} und faste regelmäßig.", ["Muslim", "Muslima"]),
        ("de", "Unser Mitarbeiter {PS} ist {T}.", ["katholisch", "evangelisch", "jüdisch"]),
        ("de", "Sie ist aus der Kirche ausgetreten und zahlt keine {T} mehr.", ["Kirchensteuer"]),
        ("en", "My colleague is {T} and does not work on Saturdays.", ["Jewish"]),
        ("en", "He is a practising {T}.", ["Catholic", "Buddhist", "Muslim"]),
        ("en", "She told me she is an {T}.", ["atheist", "agnostic"]),
        ("fr", "Mon collègue est {T} et ne boit pas d'alcool.", ["musulman"]),
        ("fr", "Elle est {T} pratiquante.", ["catholique", "protestante"]),
        ("es", "Mi compañero es {T} y no trabaja en Yom Kipur.", ["judío"]),
        ("es", "Ella es {T} practicante.", ["católica", "musulmana", "evangélica"]),
        ("it", "Mio marito è {T} praticante.", ["cattolico", "musulmano", "buddista"]),
        ("it", "Lei è {T} e osserva lo Shabbat.", ["ebrea"]),
    ],
    "political_opinion": [
        ("de", "Er ist seit 2015 {T}.", ["Parteimitglied der SPD", "Mitglied der CDU", "Mitglied der AfD"]),
        ("de", "Ich wähle seit Jahren die {T}.", ["Grünen", "CDU", "AfD"]),
        ("de", "Meine Nachbarin ist Mitglied der {T}.", ["FDP", "Linken", "CSU"]),
        ("en", "My manager {T} at the last election.", ["voted for the Greens", "voted for Labour"]),
        ("en", "She is a registered {T}.", ["Democrat", "Republican"]),
        ("en", "He makes no secret of his {T}.", ["political views", "communist leanings"]),
        ("fr", "Mon voisin est {T}.", ["militant du Rassemblement national", "sympathisant de La France insoumise"]),
        ("fr", "Elle a toujours voté pour {T}.", ["La France insoumise", "Les Républicains"]),
        ("es", "Mi jefe está afiliado al {T}.", ["PSOE", "Partido Popular"]),
        ("es", "Ella {T} en las últimas elecciones.", ["votó a Vox", "votó al PSOE"]),
        ("it", "Mio padre è {T} da vent'anni.", ["iscritto al partito", "comunista"]),
        ("it", "Lei {T} alle ultime elezioni.", ["ha votato Fratelli d'Italia"]),
    ],
    "trade_union": [
        ("de", "Ich bin Mitglied der {T}.", ["IG Metall", "ver.di", "GEW"]),
        ("de", "Der Kollege {PS} ist {T}.", ["Gewerkschaftsmitglied", "Gewerkschafter"]),
        ("de", "Meine Frau engagiert sich in der {T}.", ["Gewerkschaft"]),
        ("en", "He has been a {T} for ten years.", ["union member", "shop steward"]),
        ("en", "My sister joined the {T} last spring.", ["trade union", "Teamsters"]),
        ("fr", "Mon collègue est {T}.", ["syndiqué à la CGT", "délégué syndical CFDT"]),
        ("fr", "Elle est membre du {T}.", ["syndicat"]),
        ("es", "Mi compañera está afiliada al {T}.", ["sindicato"]),
        ("es", "Él es {T}.", ["delegado sindical de CCOO", "sindicalista de UGT"]),
        ("it", "Mio marito è iscritto al {T}.", ["sindacato"]),
        ("it", "Lei è {T}.", ["sindacalista della CGIL", "rappresentante sindacale della CISL"]),
    ],
    "ethnic_origin": [
        ("de", "Sie hat einen {T}.", ["Migrationshintergrund"]),
        ("de", "Der Bewerber {PS} ist {T}.", ["türkischstämmig", "Kurde", "russischstämmig"]),
        ("de", "Meine Kollegin gehört zur Minderheit der {T}.", ["Sinti"]),
        ("en", "He is {T} and grew up in Texas.", ["Hispanic", "African American"]),
        ("en", "Her {T} was noted in the file.", ["ethnic origin", "ethnicity", "skin colour"]),
        ("fr", "Mon collègue est d'origine {T}.", ["maghrébine"]),
        ("fr", "Son {T} figure dans le dossier de mon employé.", ["origine ethnique"]),
        ("es", "Mi vecino es {T}.", ["gitano"]),
        ("es", "Su {T} no debe constar en mi expediente.", ["origen étnico", "etnia"]),
        ("it", "Lei è di {T} rom.", ["etnia"]),
        ("it", "La sua {T} non è rilevante per mio figlio.", ["origine etnica"]),
    ],
    "sexual_orientation": [
        ("de", "Mein Kollege hat mir erzählt, dass er {T} ist.", ["schwul", "bisexuell"]),
        ("de", "Sie lebt {T} und ist verheiratet.", ["lesbisch"]),
        ("en", "My colleague told me he is {T}.", ["gay", "bisexual"]),
        ("en", "She {T} last year.", ["came out as lesbian", "came out as queer"]),
        ("en", "His {T} is nobody's business.", ["sexual orientation", "sex life"]),
        ("fr", "Mon frère est {T}.", ["homosexuel", "gay"]),
        ("fr", "Elle est {T} et vit avec sa compagne.", ["lesbienne"]),
        ("es", "Mi hermano es {T}.", ["gay", "homosexual", "bisexual"]),
        ("es", "Ella habló de su {T} con el jefe.", ["orientación sexual"]),
        ("it", "Mio fratello è {T}.", ["omosessuale", "gay"]),
        ("it", "Lei è {T} e convive con la compagna.", ["lesbica"]),
    ],
    "genetic": [
        ("de", "Ihr {T} war auffällig.", ["Gentest"]),
        ("de", "Mein Vater hat eine {T}.", ["Erbkrankheit", "genetische Veranlagung"]),
        ("de", "Der {T} von {TM} {PS} liegt vor.", ["DNA-Test", "Gentest"]),
        ("en", "My {T} came back positive.", ["genetic test", "DNA test"]),
        ("en", "She is a carrier of {T}.", ["cystic fibrosis", "Huntington's"]),
        ("fr", "Mon {T} révèle une mutation rare.", ["test génétique"]),
        ("fr", "Elle est porteuse de la {T}.", ["mucoviscidose"]),
        ("es", "Mi {T} salió positivo.", ["test genético"]),
        ("es", "Ella tiene {T}.", ["fibrosis quística"]),
        ("it", "Il mio {T} ha rilevato una mutazione.", ["test genetico"]),
        ("it", "Lei ha la {T}.", ["fibrosi cistica"]),
    ],
    "biometric": [
        ("de", "Wir speichern seinen {T} für die Zeiterfassung.", ["Fingerabdruck"]),
        ("de", "Die {T} prüft jeden Morgen mein Gesicht.", ["Gesichtserkennung"]),
        ("de", "Ihr {T} wurde im Zutrittssystem hinterlegt.", ["Irisscan", "Stimmprofil"]),
        ("en", "We enrolled his {T} for door access.", ["fingerprint", "iris scan", "voiceprint"]),
        ("en", "The system matched her face with {T}.", ["facial recognition"]),
        ("fr", "Son {T} sert à ouvrir mon bureau.", ["empreinte digitale"]),
        ("fr", "La {T} identifie chaque employé à l'entrée.", ["reconnaissance faciale"]),
        ("es", "Registramos su {T} en el control de acceso de mi oficina.", ["huella dactilar"]),
        ("es", "El {T} lo identifica al entrar.", ["reconocimiento facial"]),
        ("it", "Abbiamo registrato la sua {T} per mio accesso.", ["impronta digitale"]),
        ("it", "Il {T} lo identifica all'ingresso.", ["riconoscimento facciale"]),
    ],
    "criminal": [
        ("de", "Der Bewerber ist {T}.", ["vorbestraft"]),
        ("de", "Er wurde wegen {T}.", ["Diebstahl zu einer Geldstrafe verurteilt", "Betrugs zu einer Haftstrafe verurteilt"]),
        ("de", "Mein Schwager sitzt im {T}.", ["Gefängnis"]),
        ("en", "The applicant has a {T} for fraud.", ["criminal record", "conviction"]),
        ("en", "He was {T} in 2021 and served two years.", ["convicted", "imprisoned"]),
        ("en", "My neighbour is on {T}.", ["probation", "parole"]),
        ("fr", "Mon employé a un {T} chargé.", ["casier judiciaire"]),
        ("fr", "Il a été {T} pour vol, m'a dit sa sœur.", ["condamné"]),
        ("es", "El candidato tiene {T}.", ["antecedentes penales"]),
        ("es", "Mi primo fue {T} por robo.", ["condenado", "detenido"]),
        ("it", "Il candidato ha {T}.", ["precedenti penali"]),
        ("it", "Mio cugino è stato {T} per furto.", ["condannato", "arrestato"]),
    ],
}
SPECIAL_NEAR = {
    "health": [
        # hard: person context, but the term is not about that person
        ('de', 'Ich habe die Präsentation über unsere Diabetes-Software fertig.'),
        ('en', 'He wrote the cancer awareness newsletter for the intranet.'),
        ('de', 'Die Apotheke am Markt führt jetzt auch Insulinpumpen.'),
        ('en', "Depression is the topic of next week's webinar for managers."),
        ('fr', "Le diabète touche 4 millions de Français selon l'étude."),
        ('es', 'El hospital abre una unidad de epilepsia infantil.'),
        ('it', 'Il reparto di oncologia ha un nuovo primario.'),
        ('de', 'Schwangerschaftsvertretungen werden über die Zeitarbeit besetzt.'),
        ('en', 'HIV testing sites are listed on the city website.'),
        ('fr', 'La campagne de vaccination contre la grippe commence lundi.'),
        ("en", "The hospital's IT budget for diabetes research grows by 5 %."),
        ("de", "Die Studie untersucht Diabetes in Europa."),
        ("de", "Das Krankenhaus erweitert die Krebsstation um 20 Betten."),
        ("de", "Der ICD-10-Code E11 bezeichnet Diabetes mellitus Typ 2."),
        ("en", "Asthma rates in cities are rising, the report says."),
        ("en", "Our pharmacy stocks insulin pens from three vendors."),
        ("fr", "Le ministère publie un plan contre le cancer."),
        ("fr", "La grossesse est un thème du congrès de médecine."),
        ("es", "El informe analiza la depresión en Europa."),
        ("es", "La clínica compra equipos de quimioterapia."),
        ("it", "Lo studio analizza il diabete in Italia."),
        ("it", "La campagna di prevenzione del cancro parte a maggio."),
    ],
    "religion": [
        # hard: person context, but the term is not about that person
        ('de', 'Sie hat die Ausstellung über katholische Kunst organisiert.'),
        ('en', 'I booked the Buddhist temple tour for the team offsite.'),
        ('de', 'Der Kirchentag findet 2025 in Hannover statt.'),
        ('en', 'The Catholic University of Leuven was founded in 1425.'),
        ('fr', 'Le quartier juif du Marais attire les touristes.'),
        ('es', 'La Semana Santa católica llena las calles de Sevilla.'),
        ('it', "La comunità ebraica di Roma è la più antica d'Europa."),
        ('de', 'Das Islam-Seminar der Uni wurde verschoben.'),
        ('en', 'Buddhist temples in Kyoto charge an entrance fee.'),
        ('fr', 'La cathédrale catholique de Reims est classée.'),
        ("de", "Die katholische Kirche feiert Ostern."),
        ("de", "Die Kirchensteuer wird vom Arbeitgeber abgeführt."),
        ("en", "The museum has a collection of Buddhist art."),
        ("en", "Ramadan starts in March this year."),
        ("fr", "La mosquée de Paris organise une exposition."),
        ("fr", "L'art catholique du XVIIe siècle est exposé."),
        ("es", "La catedral católica atrae turistas."),
        ("es", "El barrio judío de Toledo es precioso."),
        ("it", "La basilica cattolica apre alle nove."),
        ("it", "Il museo di arte buddista riapre."),
    ],
    "political_opinion": [
        # hard: person context, but the term is not about that person
        ('de', 'Ich habe die Pressemitteilung der SPD an die Redaktion weitergeleitet.'),
        ('en', 'She analysed the Democrat and Republican campaign budgets.'),
        ('de', 'Die FDP-Fraktion hat einen Antrag eingebracht.'),
        ('en', 'Communist-era buildings dominate the skyline.'),
        ('fr', 'La France insoumise a déposé une motion de censure.'),
        ('es', 'Vox y el PP negocian en Castilla y León.'),
        ('it', 'Il Movimento 5 Stelle ha cambiato leader.'),
        ('de', 'Die AfD-Anfrage wurde im Landtag beantwortet.'),
        ('en', 'The socialist governments of the 1970s nationalised the railways.'),
        ('es', 'El Partido Popular ganó en Madrid.'),
        ("de", "Die SPD hat den Haushalt beschlossen."),
        ("de", "Die CDU stellt ihr Wahlprogramm vor."),
        ("en", "The Democrats won the Senate race."),
        ("en", "The Labour Party conference starts Monday."),
        ("fr", "Le Rassemblement national publie son programme."),
        ("fr", "Les sondages montrent une hausse de l'abstention."),
        ("es", "El PSOE presentó los presupuestos."),
        ("es", "El Partido Popular celebra su congreso."),
        ("it", "Il Partito Democratico presenta la riforma."),
        ("it", "Fratelli d'Italia guida i sondaggi."),
    ],
    "trade_union": [
        # hard: person context, but the term is not about that person
        ('de', 'Er hat den Tarifvertrag mit der IG Metall für den Arbeitgeberverband verhandelt.'),
        ('en', "I summarised the trade union's press release for the board."),
        ('de', 'ver.di ruft zum Warnstreik im Nahverkehr auf.'),
        ('en', 'The Teamsters reached a deal with UPS.'),
        ('fr', "La CFDT signe l'accord sur les retraites."),
        ('es', 'UGT publica su informe anual.'),
        ('it', 'CISL e UIL firmano il contratto dei metalmeccanici.'),
        ('de', 'Die GEW kritisiert die Lehrerbesoldung.'),
        ('en', 'Trade union density fell to 22 % in 2024.'),
        ('fr', 'Les syndicats appellent à manifester jeudi.'),
        ("de", "Gewerkschaftstarif für 2025 veröffentlicht."),
        ("de", "Die IG Metall fordert sieben Prozent mehr Lohn."),
        ("de", "Der DGB kritisiert die Rentenreform."),
        ("en", "The trade union movement grew in the 1970s."),
        ("en", "Union negotiations resume next week."),
        ("fr", "Le syndicat appelle à la grève nationale."),
        ("fr", "La CGT publie un communiqué."),
        ("es", "El sindicato convoca una huelga general."),
        ("es", "CCOO y UGT firman el convenio."),
        ("it", "Il sindacato chiede un aumento salariale."),
        ("it", "La CGIL convoca uno sciopero."),
    ],
    "ethnic_origin": [
        # hard: person context, but the term is not about that person
        ('en', 'I booked a table at an ethnic restaurant for Friday.'),
        ('de', 'Sie schreibt ihre Masterarbeit über ethnische Konflikte im Kaukasus.'),
        ('de', 'Das Festival zeigt Filme kurdischer Regisseure.'),
        ('en', 'The museum opened an Aboriginal art wing.'),
        ('fr', "La cuisine maghrébine est à l'honneur ce mois-ci."),
        ('es', 'El flamenco tiene raíces gitanas.'),
        ('it', "La mostra sull'arte etnica apre sabato."),
        ('de', 'Die Studie vergleicht Hautfarbe-Filter in Kameras.'),
        ('en', 'Ethnic restaurants grew by 10 % downtown.'),
        ('es', 'El censo incluye una pregunta sobre etnia.'),
        ("de", "Die Studie untersucht Migrationshintergrund und Bildung."),
        ("de", "Das Museum zeigt Kunst der Sinti und Roma."),
        ("en", "The census asks about ethnicity since 1991."),
        ("en", "Hispanic markets grew by 4 % in 2024."),
        ("fr", "Le rapport sur les origines ethniques est publié."),
        ("es", "El estudio sobre etnia y empleo se publica hoy."),
        ("es", "La cultura gitana es parte del flamenco."),
        ("it", "Il rapporto sull'origine etnica esce domani."),
    ],
    "sexual_orientation": [
        # hard: person context, but the term is not about that person
        ('en', 'She wrote the article about the gay pride parade.'),
        ('de', 'Er moderiert das Panel zur Geschichte der queeren Bewegung.'),
        ('de', 'Die Bar ist bei der queeren Community beliebt.'),
        ('en', 'The bisexual visibility day is on 23 September.'),
        ('fr', "Le film parle de l'histoire gay à Paris."),
        ('es', 'La asociación lesbiana organiza un debate.'),
        ('it', 'Il festival del cinema gay e lesbico apre a Torino.'),
        ('de', 'Das Gesetz zur gleichgeschlechtlichen Ehe trat 2017 in Kraft.'),
        ('en', 'Homosexuality was decriminalised in 1967 in England.'),
        ('es', 'El barrio gay de Madrid es Chueca.'),
        ("en", "The report covers sexual orientation statistics in the EU."),
        ("en", "The gay pride parade starts at noon."),
        ("de", "Der Verein für lesbische und schwule Geschichte lädt ein."),
        ("de", "Die Studie zur sexuellen Orientierung erscheint im Mai."),
        ("fr", "La marche des fiertés gay a lieu samedi."),
        ("es", "El desfile del orgullo gay empieza a las doce."),
        ("es", "La ley protege la orientación sexual en el trabajo."),
        ("it", "Il Pride gay di Roma si tiene a giugno."),
        ("it", "La legge tutela l'orientamento sessuale."),
    ],
    "genetic": [
        # hard: person context, but the term is not about that person
        ('en', 'My genetic algorithm converges after 200 generations.'),
        ('de', 'Ich habe den Artikel über das Genom von Hefe übersetzt.'),
        ('de', 'Das Genom des Weizens ist dreimal so groß wie unseres.'),
        ('en', 'Hereditary titles were abolished in 1919.'),
        ('fr', 'Le séquençage génétique des tomates avance.'),
        ('es', 'El genoma del lince ibérico fue secuenciado.'),
        ('it', 'La ricerca genetica sui vigneti è finanziata dalla regione.'),
        ('de', 'Die DNA-Analyse der Bodenproben dauert zwei Wochen.'),
        ('en', 'The 23andMe data breach made headlines.'),
        ('es', 'La prueba de ADN del vino confirma su origen.'),
        ("en", "The lab offers genetic testing for cattle."),
        ("en", "Our genetic algorithm converges after 200 generations."),
        ("de", "Der Gentest für Rinder kostet 40 Euro."),
        ("de", "Das Labor sequenziert das Genom der Weizenpflanze."),
        ("fr", "Le laboratoire propose des tests génétiques pour chiens."),
        ("es", "El laboratorio ofrece pruebas genéticas para ganado."),
        ("it", "Il laboratorio offre test genetici per bovini."),
        ("it", "La fibrosi cistica è oggetto di un convegno."),
    ],
    "biometric": [
        # hard: person context, but the term is not about that person
        ('en', 'I replaced the fingerprint sensor on his laptop.'),
        ('de', 'Er testet die Gesichtserkennung der neuen Kamera-App.'),
        ('de', 'Biometrische Passfotos macht der Fotograf am Bahnhof.'),
        ('en', 'Face ID stopped working after the update.'),
        ('fr', "Les empreintes digitales de l'enquête ont été analysées."),
        ('es', 'El lector de huellas dactilares está averiado.'),
        ('it', 'Il sensore per le impronte digitali costa 20 euro.'),
        ('de', 'Die Firma verkauft Handvenenscanner an Banken.'),
        ('en', 'Voiceprint technology is used by some banks.'),
        ('fr', 'La biométrie est interdite dans ce stade.'),
        ("en", "Facial recognition is banned in some cities."),
        ("en", "The fingerprint sensor supplier raised prices."),
        ("de", "Der Fingerabdrucksensor des Laptops ist defekt."),
        ("de", "Gesichtserkennung wird im Bundestag debattiert."),
        ("fr", "La reconnaissance faciale fait débat au Parlement."),
        ("es", "El reconocimiento facial se debate en el Congreso."),
        ("it", "Il riconoscimento facciale è vietato negli stadi."),
    ],
    "criminal": [
        # hard: person context, but the term is not about that person
        ('de', 'Ich habe einen Krimi über ein Gefängnis gelesen.'),
        ('en', 'He reviewed the prison architecture competition entries.'),
        ('de', 'Der Gefängnisfilm gewann einen Preis.'),
        ('en', 'The jail was converted into a hotel.'),
        ('fr', 'Le film raconte une évasion de prison.'),
        ('es', 'La serie trata de una cárcel de mujeres.'),
        ('it', 'Il carcere borbonico è ora un museo.'),
        ('de', 'Die Statistik zu Strafverfahren wurde veröffentlicht.'),
        ('en', 'Parole hearings are public in some states.'),
        ('fr', 'Le nombre de gardes à vue a baissé.'),
        ("de", "Das Gefängnis wird renoviert."),
        ("de", "Die Statistik zu Diebstahl in Supermärkten erscheint."),
        ("en", "The prison reform bill passed."),
        ("en", "Probation services are underfunded."),
        ("fr", "La prison de Fresnes sera rénovée."),
        ("fr", "Le casier judiciaire national publie ses chiffres."),
        ("es", "La cárcel de Carabanchel cerró en 1998."),
        ("es", "Las estadísticas de antecedentes penales se publican."),
        ("it", "Il carcere di San Vittore sarà ristrutturato."),
        ("it", "La riforma del casellario giudiziale è in Parlamento."),
    ],
}


def special_corpus():
    out = []
    for ent, tpls in SPECIAL_POS.items():
        i = 0
        while i < 60:
            lang, tpl, terms = tpls[i % len(tpls)]
            term = terms[(i // len(tpls)) % len(terms)]
            text, spans = render(lang, tpl, {"T": (term, ent)})
            out.append(rec(lang, text, spans))
            i += 1
        near = SPECIAL_NEAR[ent]
        for i in range(55):
            lang, text = near[i % len(near)]
            # vary: same sentence with a leading date or company, so lines differ
            if i >= len(near):
                pre = R.choice(["Update: ", "Hinweis: ", "FYI: ", "Note : ", "Nota: ", "News: "])
                text = pre + text
            out.append(rec(lang, text, [], near=ent))
    return out


# ---------------------------------------------------------------- held out
# Free-form sentences written after the detectors, in one sitting, and NOT
# used to tune them (the detectors were not changed after these were
# added; seven gold labels were fixed after the first run of each batch:
# persons, a health term and a union name the labels had missed, and the
# AWS documentation example key, which is a placeholder, not a secret): the honest estimate of how the lexicon rules do on text they were
# not shaped by. [[entity:text]] marks a span; a leading "!entity " marks a
# near-miss line.
HELDOUT = [
    # people
    ("de", "Kurze Info: [[person:Birgit Hansen]] aus dem Controlling ist ab Montag im Urlaub."),
    ("de", "Könnten Sie bitte bei [[person:Herrn Özdemir]] nachfragen?"),
    ("de", "Laut Protokoll hat [[person:Dr. Kaufmann]] der Änderung zugestimmt."),
    ("de", "Grüße\n[[person:Jens]]"),
    ("de", "Anbei der Lebenslauf von [[person:Lea-Sophie Brandt]]."),
    ("de", "Rückfrage von [[person:Frau Yılmaz]] zur Gehaltsabrechnung."),
    ("en", "Looping in [[person:Priya Natarajan]] from legal."),
    ("en", "As discussed with [[person:Tom]], we will ship on Monday."),
    ("en", "[[person:Mrs. Abernathy]] asked for a refund."),
    ("en", "Thanks,\n[[person:Siobhan Kelly]]\nCustomer Care"),
    ("en", "The ticket was opened by [[person:John Smith]] at 9:14."),
    ("fr", "Pouvez-vous envoyer le contrat à [[person:Mme Nguyen]] ?"),
    ("fr", "Bien à vous,\n[[person:Thierry Moreau]]"),
    ("fr", "[[person:Camille Dubois]] sera absente demain."),
    ("es", "Hablé con [[person:Carlos Ruiz]] y está de acuerdo."),
    ("es", "Un saludo,\n[[person:Ana Belén Torres]]"),
    ("es", "La factura la firmó [[person:Don Ernesto Salas]]."),
    ("it", "Ho inoltrato la mail a [[person:Giorgia Bellini]]."),
    ("it", "Il [[person:Dott. Ferraris]] arriva alle dieci."),
    ("it", "A presto,\n[[person:Luca]]"),
    ("!person de", "Das Meeting mit dem Vertrieb ist auf Dienstag verschoben."),
    ("!person de", "Bitte die Rechnung an die Buchhaltung Nord senden."),
    ("!person de", "Frau und Mann im Verhältnis 3:2 in der Umfrage."),
    ("!person en", "Please ask Sales Operations for the Q3 numbers."),
    ("!person en", "The Jordan River flows into the Dead Sea."),
    ("!person en", "Victoria Station is closed on Sunday."),
    ("!person fr", "Le Mont Blanc est le plus haut sommet des Alpes."),
    ("!person es", "Santiago de Compostela recibe a muchos peregrinos."),
    ("!person it", "San Marco è il patrono di Venezia."),
    ("!person de", "Die Paulskirche in Frankfurt wird saniert."),
    # dates of birth
    ("de", "Mandant: [[person:Peter Krause]], * [[date_of_birth:14.02.1971]]"),
    ("en", "Patient DOB [[date_of_birth:02/29/1988]], allergies: none."),
    ("en", "She was born [[date_of_birth:12 May 1990]] in Cork."),
    ("fr", "Né à Lille le [[date_of_birth:3 mars 1958]]."),
    ("es", "Fecha nac.: [[date_of_birth:07/08/1999]]"),
    ("it", "Nata il [[date_of_birth:1 giugno 1983]] a Bari."),
    ("!date_of_birth de", "Geburtstagsfeier der Abteilung am 12.06.2025."),
    ("!date_of_birth en", "Born to Run was released on 25 August 1975."),
    ("!date_of_birth fr", "La société est née le 1er janvier 2001 d'une fusion."),
    ("!date_of_birth es", "El proyecto nació el 3 de marzo de 2020."),
    # addresses
    ("de", "Bitte an [[postal_address:Kastanienallee 7, 10435 Berlin]] schicken."),
    ("de", "Wohnt jetzt in der [[postal_address:Schönbrunner Straße 213/4, 1120 Wien]]."),
    ("de", "Absender: Kai Lenz, [[postal_address:Seestrasse 18, 8002 Zürich]]"),
    ("en", "Send it to [[postal_address:Leopoldstraße 90, 80802 München]], c/o Becker."),
    ("it", "Residente in [[postal_address:Via dei Fiori 3, 40121 Bologna]]."),
    ("es", "Vive en [[postal_address:Calle Serrano 41, 28001 Madrid]]."),
    ("fr", "Domicile : [[postal_address:5 avenue Victor Hugo, 75116 Paris]]"),
    ("!postal_address de", "Die Straßenbahn fährt alle 10 Minuten."),
    ("!postal_address de", "Tarifgebiet 10115 bis 10999 gilt für Berlin."),
    ("!postal_address en", "We ship 5, 10115 units per week to Berlin."),
    # special categories
    ("de", "Ich war letzte Woche wegen meiner [[health:Migräne]] [[health:krankgeschrieben]]."),
    ("de", "Mein Sohn ist [[health:Autist]] und braucht einen ruhigen Arbeitsplatz."),
    ("de", "Herr [[person:Braun]] nimmt [[health:Ritalin]] seit der Diagnose."),
    ("en", "I have [[health:type 1 diabetes]] and need breaks for [[health:insulin]]."),
    ("en", "My wife is [[health:pregnant]] with twins."),
    ("fr", "Je suis sous [[health:antidépresseurs]] depuis un an."),
    ("es", "Mi padre tuvo un [[health:infarto]] el año pasado."),
    ("it", "Mia madre ha l'[[health:Alzheimer]]."),
    ("de", "Er ist [[religion:Zeuge Jehovas]] und feiert keinen Geburtstag."),
    ("en", "I'm [[religion:Hindu]], so no beef at the team dinner please."),
    ("de", "Meine Kollegin ist in der [[trade_union:Gewerkschaft]] aktiv."),
    ("en", "I am a member of [[trade_union:Unite]]."),
    ("de", "Ich habe bei der letzten Wahl die [[political_opinion:Grünen]] gewählt."),
    ("en", "He's a lifelong [[political_opinion:Labour]] voter."),
    ("en", "My partner and I are a [[sexual_orientation:same-sex couple]]."),
    ("de", "Sie hat sich letztes Jahr als [[sexual_orientation:bisexuell]] geoutet."),
    ("en", "His [[criminal:DUI conviction]] shows up in the background check."),
    ("de", "Mein Bruder saß zwei Jahre in [[criminal:Haft]]."),
    ("en", "We store her [[biometric:fingerprints]] for the safe."),
    ("de", "Er ist [[ethnic_origin:Roma]] und spricht Romanes."),
    ("!health de", "Die Krankenkasse erhöht den Zusatzbeitrag für 2026."),
    ("!health en", "Cancer Research UK published new figures today."),
    ("!health de", "Unser Produkt heißt Diabetes-Manager Pro."),
    ("!health en", "My laptop has a virus again."),
    ("!religion de", "Die Kirche im Dorf wird renoviert."),
    ("!religion en", "Christmas sales were up 4 %."),
    ("!political_opinion de", "Die Grünen und die SPD verhandeln weiter."),
    ("!political_opinion en", "Labour costs rose by 3 % this quarter."),
    ("!trade_union de", "Die Gewerkschaft fordert mehr Urlaubstage."),
    ("!trade_union en", "The European Union adopted the AI Act."),
    ("!sexual_orientation en", "Marvin Gaye released the album in 1971."),
    ("!criminal de", "Die Haftung des Herstellers ist ausgeschlossen."),
    ("!criminal en", "My code was arrested by the linter, lol."),
    ("!biometric de", "Mein Handy hat keinen Fingerabdrucksensor mehr."),
    ("!genetic en", "The genetic algorithm library is on GitHub."),
    ("!ethnic_origin it", "Roma è la capitale d'Italia."),
    # secrets
    ("en", "curl -u admin:[[password:N7v!qR2#xL]] https://intranet.local/api"),
    ("de", "Neues WLAN-Passwort: [[password:Fisch-Brot-77]]"),
    ("en", "login with root / [[password:Xk9!pw22]]"),
    ("en", "export GITHUB_TOKEN=[[github_token:ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8]]"),
    ("en", "const stripe = 'sk_live_[[generic_secret:51HqLyjWDarjtT1zdp7dcXm]]'"),
    ("!password en", "Enter your password and press Enter."),
    ("!password de", "Das Passwort muss 12 Zeichen lang sein."),
    ("!generic_secret en", "The secret sauce is caching."),
    ("!jwt en", "The token format is header.payload.signature."),
    # second batch (15:55), written before running the detectors on it
    ("de", "Hallo [[person:Frau Dr. Lindner]], anbei die Unterlagen zur Prüfung."),
    ("de", "Ich habe [[person:Markus Pohl]] gebeten, die Zahlen bis Freitag zu prüfen."),
    ("de", "Bewerbung von [[person:Aylin Kaya]] für die Stelle im Einkauf"),
    ("de", "VG [[person:Stefan]]"),
    ("de", "Teilnehmer: [[person:Jonas Becker]], [[person:Lisa Brandt]], [[person:Murat Demir]]"),
    ("en", "Hi [[person:Ben]], can you review the PR before lunch?"),
    ("en", "[[person:Dr. Amelia Hughes]] will present the results on Thursday."),
    ("en", "Cc: [[person:Robert Fischer]] (Finance)"),
    ("en", "Signed: [[person:Olivia Bennett]], HR Business Partner"),
    ("fr", "Bonjour [[person:Madame Rousseau]], je vous remercie pour votre retour."),
    ("fr", "Le dossier de [[person:Julien Mercier]] est complet."),
    ("es", "Estimada [[person:Sra. Castillo]]: le enviamos el contrato."),
    ("es", "[[person:Javier Morales]] se incorpora el lunes al equipo."),
    ("it", "Gentile [[person:Dott.ssa Marchetti]], le invio il preventivo."),
    ("it", "Ho chiamato [[person:Francesca Neri]] per la conferma."),
    ("!person de", "Der Kunde aus Hamburg hat zwei Lizenzen bestellt."),
    ("!person en", "Amazon Web Services announced new regions."),
    ("!person de", "Hallo zusammen, das Release ist verschoben."),
    ("!person fr", "Madame, Monsieur, nous accusons réception de votre courrier."),
    ("!person it", "Gentile cliente, la sua richiesta è stata registrata."),
    ("de", "Versicherter: [[person:Hans Meier]], geboren am [[date_of_birth:03.11.1962]] in Kassel"),
    ("en", "Date of Birth: [[date_of_birth:14 July 1985]]"),
    ("fr", "Date de naissance : [[date_of_birth:21/06/1977]]"),
    ("it", "nato il [[date_of_birth:12/12/1950]]"),
    ("es", "Fecha de nacimiento: [[date_of_birth:5 de enero de 1992]]"),
    ("!date_of_birth de", "Die Rechnung vom 03.11.2025 ist noch offen."),
    ("!date_of_birth en", "The contract was signed on 14 July 2025."),
    ("!date_of_birth it", "La fattura del 12/12/2024 è scaduta."),
    ("de", "Unsere neue Adresse: [[postal_address:Friedrichstraße 123, 10117 Berlin]]"),
    ("de", "Lieferung an [[postal_address:Am Stadtpark 4, 90409 Nürnberg]]"),
    ("de", "[[postal_address:Landstraßer Hauptstraße 1, 1030 Wien]]"),
    ("it", "Indirizzo: [[postal_address:Corso Buenos Aires 45, 20124 Milano]]"),
    ("!postal_address de", "Die Friedrichstraße wird ab Montag Fußgängerzone."),
    ("!postal_address en", "Our Berlin office is near the station."),
    ("de", "Mein Mann hat [[health:Parkinson]]."),
    ("de", "Ich bin [[health:schwanger]] und gehe ab Juni in Mutterschutz."),
    ("en", "My daughter has [[health:epilepsy]] and needs a quiet room."),
    ("en", "He's been off work with [[health:depression]] since March."),
    ("fr", "Ma femme a un [[health:cancer]] du sein."),
    ("it", "Mio padre è in [[health:dialisi]] tre volte a settimana."),
    ("es", "Tengo [[health:asma]] desde pequeño."),
    ("de", "Er ist [[religion:Moslem]] und betet in der Mittagspause."),
    ("en", "She converted to [[religion:Islam]] last year."),
    ("de", "Ich bin seit 20 Jahren in der [[trade_union:IG BCE]]."),
    ("fr", "Je suis [[trade_union:syndiqué à Force ouvrière]]."),
    ("de", "Mein Kollege ist [[political_opinion:AfD-Mitglied]]."),
    ("en", "I voted [[political_opinion:Conservative]] in the last election."),
    ("de", "Mein Sohn ist [[sexual_orientation:schwul]]."),
    ("it", "Mia sorella è [[sexual_orientation:lesbica]]."),
    ("de", "Mein Vater ist wegen [[criminal:Betrugs vorbestraft]]."),
    ("en", "He spent three years in [[criminal:prison]] for fraud."),
    ("de", "Ihr [[genetic:Gentest]] ergab ein erhöhtes Risiko."),
    ("en", "We use his [[biometric:face scan]] to unlock the lab."),
    ("en", "My grandmother is [[ethnic_origin:Sinti]]."),
    ("!health en", "The pharmacy chain reported record insulin sales."),
    ("!health de", "Die Pandemie hat die Lieferketten verändert."),
    ("!religion de", "Weihnachten fällt dieses Jahr auf einen Mittwoch."),
    ("!political_opinion de", "Die Bundestagswahl findet im Februar statt."),
    ("!trade_union en", "The union of both datasets has 4,000 rows."),
    ("!criminal en", "The prison scene in the film was shot in Belfast."),
    ("!sexual_orientation de", "Die Regenbogenflagge hängt am Rathaus."),
    ("!biometric en", "Our new laptops ship with Windows Hello."),
    ("en", "MYSQL_PASSWORD=[[password:v8#Lq2!zRt]]"),
    ("de", "Das Kennwort für das WLAN lautet [[password:Gast-2025!xy]]."),
    ("!generic_secret en", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEYq8"),  # AWS docs example: first labelled a secret by mistake
    ("en", "Use this key: [[openai_key:sk-proj-4fGh7JkL9mNpQ2rStUvWxYz1A3bC5dE7fG9hJ2kL4mN6pQ8rS0tU]]"),
    ("!password en", "Password must contain at least one digit."),
    ("!aws_access_key en", "Keys look like AKIA followed by 16 characters."),
]


def heldout_rows(entities):
    rows = []
    for tag, marked in HELDOUT:
        near = None
        lang = tag
        if tag.startswith("!"):
            near, lang = tag[1:].split(" ")
        text = ""
        spans = []
        pos = 0
        for m in re.finditer(r"\[\[(\w+):(.*?)\]\]", marked, re.S):
            text += marked[pos:m.start()]
            start = len(text.encode())
            text += m.group(2)
            spans.append({"start": start, "end": len(text.encode()), "entity": m.group(1)})
            pos = m.end()
        text += marked[pos:]
        ents = {sp["entity"] for sp in spans} | ({near} if near else set())
        if ents & entities:
            rows.append(rec(lang, text, spans, near=near))
    return rows


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    person = {"person", "date_of_birth", "postal_address"}
    secret = set(SECRET_GEN) | {"password", "generic_secret"}
    special = set(SPECIAL_POS)
    for name, rows in (("person.jsonl", person_corpus()), ("secret.jsonl", secret_corpus()),
                       ("special.jsonl", special_corpus()),
                       ("person_heldout.jsonl", heldout_rows(person)),
                       ("secret_heldout.jsonl", heldout_rows(secret)),
                       ("special_heldout.jsonl", heldout_rows(special))):
        with open(os.path.join(outdir, name), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
