"""Free-text templates: support tickets in the customers' languages, and campaign managers' notes.

Placeholders: {name}, {first}, {email}, {phone}, {card}. Real messages put contact details in the
middle of sentences, in whatever format the writer likes; so do these.
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
