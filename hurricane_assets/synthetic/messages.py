"""Free-text templates: support tickets in the customers' languages, and campaign managers' notes.

Placeholders: {name}, {first}, {email}, {phone}, {card}, {id}, {iban}, {dob}, {address}, {postcode},
{other}, {last4}. Real messages put contact details in the middle of sentences, in whatever format the
writer likes; so do these. `ticket_text.py` assembles them and labels every span of personal data.
"""

from __future__ import annotations

TICKET_CATEGORIES = ("card_issue", "payment_dispute", "login_problem", "fees", "app_bug", "account_change")

ISSUES: dict[str, dict[str, str]] = {
    "en": {
        "card_issue": "My card was declined twice today at the till and I don't know why.",
        "payment_dispute": "I was charged for an order I cancelled last week, please refund it.",
        "login_problem": "I can't log in to the app since the last update, it says my session expired.",
        "fees": "Why was I charged a fee on my account this month? Nobody told me about it.",
        "app_bug": "The app crashes every time I open the statements page.",
        "account_change": "I moved house and need to update my address on the account.",
    },
    "de": {
        "card_issue": "Meine Karte wurde heute zweimal an der Kasse abgelehnt.",
        "payment_dispute": "Mir wurde eine stornierte Bestellung abgebucht, bitte erstatten Sie den Betrag.",
        "login_problem": "Seit dem letzten Update kann ich mich nicht mehr in der App anmelden.",
        "fees": "Warum wurde mir diesen Monat eine Gebühr berechnet?",
        "app_bug": "Die App stürzt ab, sobald ich die Kontoauszüge öffne.",
        "account_change": "Ich bin umgezogen und möchte meine Adresse ändern.",
    },
    "fr": {
        "card_issue": "Ma carte a été refusée deux fois aujourd'hui en magasin.",
        "payment_dispute": "J'ai été débité pour une commande annulée, merci de me rembourser.",
        "login_problem": "Je n'arrive plus à me connecter à l'application depuis la mise à jour.",
        "fees": "Pourquoi des frais ont-ils été prélevés sur mon compte ce mois-ci ?",
        "app_bug": "L'application plante quand j'ouvre mes relevés.",
        "account_change": "J'ai déménagé et je dois mettre à jour mon adresse.",
    },
    "nl": {
        "card_issue": "Mijn pas is vandaag twee keer geweigerd bij de kassa.",
        "payment_dispute": "Er is een geannuleerde bestelling afgeschreven, graag terugbetalen.",
        "login_problem": "Sinds de laatste update kan ik niet meer inloggen in de app.",
        "fees": "Waarom zijn er deze maand kosten in rekening gebracht?",
        "app_bug": "De app crasht als ik mijn afschriften open.",
        "account_change": "Ik ben verhuisd en wil mijn adres wijzigen.",
    },
    "es": {
        "card_issue": "Mi tarjeta fue rechazada dos veces hoy en la tienda.",
        "payment_dispute": "Me cobraron un pedido que cancelé, por favor devuélvanme el importe.",
        "login_problem": "No puedo iniciar sesión en la aplicación desde la última actualización.",
        "fees": "¿Por qué me cobraron una comisión este mes?",
        "app_bug": "La aplicación se cierra cuando abro los extractos.",
        "account_change": "Me he mudado y necesito actualizar mi dirección.",
    },
}

GREETING = {"en": "Hello,", "de": "Hallo,", "fr": "Bonjour,", "nl": "Hallo,", "es": "Hola,"}
INTRO = {
    "en": "this is {name} writing.", "de": "hier schreibt {name}.", "fr": "c'est {name} qui écrit.",
    "nl": "u spreekt met {name}.", "es": "les escribe {name}.",
}
CALL_ME = {
    "en": "Please call me back on {phone}.", "de": "Bitte rufen Sie mich unter {phone} zurück.",
    "fr": "Merci de me rappeler au {phone}.", "nl": "Bel me alstublieft terug op {phone}.",
    "es": "Por favor llámenme al {phone}.",
}
MAIL_ME = {
    "en": "You can also reach me at {email}.", "de": "Sie erreichen mich auch unter {email}.",
    "fr": "Vous pouvez aussi m'écrire à {email}.", "nl": "U kunt me ook mailen op {email}.",
    "es": "También pueden escribirme a {email}.",
}
CARD = {
    "en": "It is about the card {card}.", "de": "Es geht um die Karte {card}.",
    "fr": "Il s'agit de la carte {card}.", "nl": "Het gaat om pas {card}.", "es": "Se trata de la tarjeta {card}.",
}
SIGN_OFF = {"en": "Thanks, {first}", "de": "Danke, {first}", "fr": "Merci, {first}", "nl": "Bedankt, {first}",
            "es": "Gracias, {first}"}

CAMPAIGNS = ("spring_cashback", "travel_card_promo", "refer_a_friend", "premium_upgrade", "savings_boost")
NOTES_PLAIN = (
    "Banner variant B performed better on mobile.",
    "Landing page slow on Safari, ticket raised with web team.",
    "Audience: mass segment, 25-40.",
    "Paused over the weekend for budget reasons.",
)
NOTES_PERSONAL = (
    "Follow up with {name} after the promo, asked about premium.",
    "VIP: {email} wants a callback about the upgrade.",
    "{name} ({email}) complained about too many mails, lower frequency.",
    "Referral bonus owed to {name}.",
)

# --- the wider ticket vocabulary (ticket_text.py picks one variant of each part per message) ----------

GREETINGS = {
    "en": ("Hello,", "Hi,", "Dear support team,", "Hi there", "Good morning,", ""),
    "de": ("Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Hallo zusammen", ""),
    "fr": ("Bonjour,", "Madame, Monsieur,", "Bonsoir,", "Bonjour à tous", ""),
    "nl": ("Hallo,", "Beste,", "Goedemiddag,", "Geachte heer/mevrouw,", ""),
    "es": ("Hola,", "Buenos días,", "Estimados señores:", "Hola buenas", ""),
}
INTROS = {
    "en": ("this is {name} writing.", "my name is {name}.", "I am {name}, customer for years.", "{name} here.",
           "writing on behalf of {name}, my mother."),
    "de": ("hier schreibt {name}.", "mein Name ist {name}.", "ich bin {name}.", "{name} hier."),
    "fr": ("c'est {name} qui écrit.", "je m'appelle {name}.", "je suis {name}.", "ici {name}."),
    "nl": ("u spreekt met {name}.", "mijn naam is {name}.", "ik ben {name}.", "met {name}."),
    "es": ("les escribe {name}.", "me llamo {name}.", "soy {name}.", "mi nombre es {name}."),
}
TITLES = {"en": ("Mr", "Mrs", "Ms", "Mr.", "Dr"), "de": ("Herr", "Frau", "Dr."), "fr": ("M.", "Mme", "Madame", "Monsieur"),
          "nl": ("dhr.", "mevr.", "meneer", "mevrouw"), "es": ("Sr.", "Sra.", "Don", "Doña")}
CALL_ME_MORE = {
    "en": ("Please call me back on {phone}.", "my number is {phone}", "Call me: {phone}", "tel {phone} (after 5pm)"),
    "de": ("Bitte rufen Sie mich unter {phone} zurück.", "Meine Nummer: {phone}", "Tel. {phone}"),
    "fr": ("Merci de me rappeler au {phone}.", "mon numéro est le {phone}", "Tél : {phone}"),
    "nl": ("Bel me alstublieft terug op {phone}.", "mijn nummer is {phone}", "tel. {phone}"),
    "es": ("Por favor llámenme al {phone}.", "mi teléfono es {phone}", "Tel: {phone}"),
}
MAIL_ME_MORE = {
    "en": ("You can also reach me at {email}.", "email: {email}", "my new email is {email} please update"),
    "de": ("Sie erreichen mich auch unter {email}.", "E-Mail: {email}", "meine neue Adresse ist {email}"),
    "fr": ("Vous pouvez aussi m'écrire à {email}.", "mail : {email}", "mon adresse mail est {email}"),
    "nl": ("U kunt me ook mailen op {email}.", "e-mail: {email}", "mijn mailadres is {email}"),
    "es": ("También pueden escribirme a {email}.", "correo: {email}", "mi email es {email}"),
}
CARD_MORE = {
    "en": ("It is about the card {card}.", "card no. {card}", "the card number is {card}"),
    "de": ("Es geht um die Karte {card}.", "Kartennummer {card}", "meine Karte {card}"),
    "fr": ("Il s'agit de la carte {card}.", "carte n° {card}", "numéro de carte {card}"),
    "nl": ("Het gaat om pas {card}.", "pasnummer {card}", "mijn kaart {card}"),
    "es": ("Se trata de la tarjeta {card}.", "tarjeta nº {card}", "el número de tarjeta es {card}"),
}
CARD_ENDING = {"en": "the card ending in {last4}", "de": "die Karte mit Endziffern {last4}",
               "fr": "la carte se terminant par {last4}", "nl": "de pas eindigend op {last4}",
               "es": "la tarjeta terminada en {last4}"}
ID_LINES = {
    "en": ("my {kind} is {id}", "{kind}: {id}", "for verification, {kind} {id}"),
    "de": ("meine {kind} lautet {id}", "{kind}: {id}"),
    "fr": ("mon {kind} est le {id}", "{kind} : {id}"),
    "nl": ("mijn {kind} is {id}", "{kind}: {id}"),
    "es": ("mi {kind} es {id}", "{kind}: {id}"),
}
ID_KINDS = {"GB": ("NI number", "National Insurance number", "NINO"), "DE": ("Steuer-ID", "Steueridentifikationsnummer"),
            "FR": ("numéro de sécurité sociale", "NIR"), "NL": ("BSN", "burgerservicenummer"),
            "ES": ("DNI", "documento"), "IT": ("codice fiscale", "tax code")}
IBAN_LINES = {
    "en": ("please pay the refund into {iban}", "my IBAN is {iban}", "IBAN: {iban}"),
    "de": ("bitte auf {iban} überweisen", "meine IBAN: {iban}"),
    "fr": ("merci de rembourser sur le compte {iban}", "IBAN : {iban}"),
    "nl": ("graag terugstorten op {iban}", "mijn IBAN is {iban}"),
    "es": ("por favor devuelvan el dinero a {iban}", "IBAN: {iban}"),
}
DOB_LINES = {
    "en": ("date of birth {dob}", "I was born on {dob}", "DOB: {dob}"),
    "de": ("geboren am {dob}", "Geburtsdatum: {dob}"),
    "fr": ("née le {dob}", "date de naissance : {dob}"),
    "nl": ("geboren op {dob}", "geboortedatum {dob}"),
    "es": ("nacido el {dob}", "fecha de nacimiento: {dob}"),
}
ADDRESS_LINES = {
    "en": ("my address is {address}", "new address: {address}", "I live at {address}"),
    "de": ("meine Adresse: {address}", "ich wohne jetzt in der {address}"),
    "fr": ("j'habite au {address}", "nouvelle adresse : {address}"),
    "nl": ("mijn adres is {address}", "nieuw adres: {address}"),
    "es": ("mi dirección es {address}", "vivo en {address}"),
}
POSTCODE_LINES = {
    "en": ("postcode {postcode}", "my postcode is {postcode}"), "de": ("PLZ {postcode}", "Postleitzahl {postcode}"),
    "fr": ("code postal {postcode}", "CP {postcode}"), "nl": ("postcode {postcode}", "mijn postcode is {postcode}"),
    "es": ("código postal {postcode}", "CP {postcode}"),
}
# A line of bare details, as people paste them: name, birth date, postcode.
DETAILS = {"en": "Details: {name}, {dob}, {postcode}", "de": "Daten: {name}, {dob}, {postcode}",
           "fr": "Infos : {name}, {dob}, {postcode}", "nl": "Gegevens: {name}, {dob}, {postcode}",
           "es": "Datos: {name}, {dob}, {postcode}"}
THIRD_PARTY = {
    "en": ("My husband {other} has the same problem.", "I already spoke to {other} from your team.",
           "the money went to {other} by mistake", "my daughter {other} uses the card too"),
    "de": ("Mein Mann {other} hat dasselbe Problem.", "Ich habe schon mit {other} gesprochen.",
           "das Geld ging aus Versehen an {other}"),
    "fr": ("Mon mari {other} a le même problème.", "J'ai déjà parlé à {other} de votre équipe.",
           "l'argent est parti chez {other} par erreur"),
    "nl": ("Mijn man {other} heeft hetzelfde probleem.", "Ik heb al met {other} gesproken.",
           "het geld is per ongeluk naar {other} gegaan"),
    "es": ("Mi marido {other} tiene el mismo problema.", "Ya hablé con {other} de su equipo.",
           "el dinero fue a {other} por error"),
}
# Text that looks like data but is nobody's: amounts, references, recent dates, versions, merchants.
NOISE = {
    "en": ("Order #{order} for £{amount} on {recent}.", "Ref TK-{year}-{ref}, app version {version}.",
           "It happened at {time} at Tesco, then again at Amazon.", "I tried 3 times with {amount} EUR.",
           "Case {ref} still open since {recent}.", "May I ask why? I will wait. Mark it urgent please."),
    "de": ("Bestellung {order} über {amount} € am {recent}.", "Vorgang {ref}, App-Version {version}.",
           "Es war um {time} bei Lidl.", "Ich habe es 3 Mal versucht."),
    "fr": ("Commande {order} de {amount} € le {recent}.", "Dossier {ref}, version {version}.",
           "C'était à {time} chez Carrefour.", "J'ai essayé 3 fois."),
    "nl": ("Bestelling {order} van € {amount} op {recent}.", "Zaak {ref}, versie {version}.",
           "Het was om {time} bij Albert Heijn.", "Ik heb het 3 keer geprobeerd."),
    "es": ("Pedido {order} de {amount} € el {recent}.", "Caso {ref}, versión {version}.",
           "Fue a las {time} en Mercadona.", "Lo intenté 3 veces."),
}
SIGN_OFFS = {
    "en": ("Thanks, {first}", "Regards,\n{name}", "Best, {first}", "Cheers {first}", "Kind regards, {name}"),
    "de": ("Danke, {first}", "Mit freundlichen Grüßen\n{name}", "Viele Grüße, {first}", "Gruß {first}"),
    "fr": ("Merci, {first}", "Cordialement,\n{name}", "Bien à vous, {first}"),
    "nl": ("Bedankt, {first}", "Met vriendelijke groet,\n{name}", "Groetjes, {first}"),
    "es": ("Gracias, {first}", "Saludos,\n{name}", "Un saludo, {first}"),
}
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
           "November", "Dezember"),
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
           "noviembre", "diciembre"),
}
NOTES_MORE = (
    "Follow up with {name} after the promo, asked about premium.",
    "VIP: {email} wants a callback about the upgrade.",
    "{name} ({email}) complained about too many mails, lower frequency.",
    "Referral bonus owed to {name}.",
    "call {name} on {phone} re upgrade",
    "{name}, {postcode}, asked for paper statements.",
    "sent voucher to {email}; {other} referred them",
)
