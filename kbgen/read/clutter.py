"""What page clutter looks like, in the languages of the sources we see.

Each rule is a named pattern so a fixture can say which rule removed a line.
A line is clutter only when the *whole* line is the prompt ("Share this",
"Descargar en PDF"); a sentence that merely contains the word "share" is not.
"""

from __future__ import annotations

import re

_WHOLE_LINE: dict[str, str] = {
    "skip-link": r"(skip|jump) to (main )?(content|navigation|search)|saltar al contenido( principal)?"
    r"|zum inhalt( springen)?|aller au contenu( principal)?|перейти к (основному )?содержанию",
    "navigation": r"(main )?menu|navigation|home( page)?|search|log ?in|sign ?(in|up)|register"
    r"|subscribe( now| today)?|newsletter|current (edition|issue)|latest (edition|issue|news)"
    r"|inicio|buscar|accueil|rechercher|startseite|suche|главная|поиск|menú|more|mehr|plus"
    r"|read (more|next|also)|leer más|lire la suite|weiterlesen|reuse this content|topics",
    "logo": r"\S*logo\S*( \S+)?",
    "previous-next": r"(«\s*)?(previous|next|prev\.?|older|newer)( (article|post|story|entry))?(\s*»)?"
    r"|(previous|prev\.?) ?(article|post|story)\s*(next) ?(article|post|story)"
    r"|art[ií]culo (anterior|siguiente)|(anterior|siguiente)( art[ií]culo)?"
    r"|article (précédent|suivant)|(vorheriger|nächster) (artikel|beitrag)",
    "related": r"(you (might|may) also (like|enjoy)|related( articles| posts| stories| content| reading)?"
    r"|recommended( for you| reading)?|more (from|on|in) .{1,40}|most (viewed|read|popular)|see also"
    r"|también te puede interesar|te puede interesar|ver también|noticias relacionadas"
    r"|lire aussi|à lire aussi|sur le même sujet|das könnte sie auch interessieren|mehr zum thema"
    r"|weitere artikel|читайте также|похожие статьи)\s*:?",
    "back-to-top": r"(back|return|go) to top|volver (arriba|al inicio)|nach oben|haut de page"
    r"|retour en haut( de page)?|top|наверх|↑|zurück nach oben",
    "download-print": r"(download|descargar|télécharger|herunterladen|скачать|baixar|scarica)"
    r"( (as|en|in|le|als|em))?( (el|la|le|das))?( (pdf|epub|version))?( (pdf))?\s*:?"
    r"|(pdf|epub)( (download|herunterladen))?|print( this( page| article)?)?|imprimir|imprimer"
    r"|drucken|печать|version (imprimible|imprimable)",
    "share": r"(share|compartir|partager|teilen|поделиться|condividi|partilhar)"
    r"( (this|on|en|sur|auf|via|esta|este|cet|ce))?( (article|page|story|post|artículo|noticia|\w+))?\s*:?"
    r"|tweet|facebook|twitter|x|linkedin|whatsapp|telegram|reddit|pinterest|e-?mail|copy link"
    r"|(follow|síguenos|suivez[- ]nous|folgen sie uns|seguici|подписывайтесь)( (us|en|on|sur|auf|на))?"
    r"( \w+)?\s*:?|(con el apoyo de|colabora con|in collaboration with|with the support of)\s*:?",
    "comments": r"\d*\s*(comments?|comentarios?|commentaires?|kommentare?|комментари[ийея]+)( \(\d+\))?"
    r"|(leave|post|add|write) a (reply|comment)|deja (un|tu) comentario|laisser un commentaire"
    r"|join the (discussion|conversation)|show comments",
    "language-picker": r"(language|idioma|langue|sprache|язык)\s*:.*"
    r"|(english|español|français|deutsch|русский|中文|简体|繁體|日本語|português|italiano|عربي)"
    r"(\s*[|/·]?\s*(english|español|français|deutsch|русский|中文|简体|繁體|日本語|português|italiano|عربي))*"
    r"|(versión|version|read|leer|lire) (en|in) (español|english|inglés|français|anglais)"
    r"( en este enlace| here| aquí)?",
    "advertisement": r"advertisement|advertising|sponsored( content)?|publicidad|anzeige|publicité|реклама",
    "cookie-banner": r"(uso|aviso|política|pol[ií]tica) de cookies|cookie (policy|settings|notice|preferences)"
    r"|(accept|reject|allow)( all)?( cookies)?|aceptar( cookies)?|tout accepter|alle akzeptieren",
    # an image viewer's controls, saved as text beside the caption
    "image-controls": r"((enlarge|expand|zoom) (this )?(image|photo|picture)( toggle caption)?"
    r"|(toggle|hide|show|close) caption|click to enlarge|view (the )?(full )?(gallery|image)"
    r"|(image|photo|picture) \d+ (of|/) \d+|full ?screen)\s*:?",
    "site-links": r"(privacy|cookie)( policy| notice| settings)?|terms( (of|and) (use|service|conditions))?"
    r"|terms & conditions|contact( us)?|about( us)?|imprint|impressum|aviso legal|mentions légales"
    r"|datenschutz(erklärung)?|accessibility|site ?map|careers|jobs|advertise( with us)?"
    r"|help( centre| center)?|faq|rss( feeds?)?|all rights reserved\.?",
    # "© 2017 Guardian News and Media Limited", "Copyright 2017 Foo Inc." (a year or the sign:
    # "Copyright infringement is rife, the BPI said." is a sentence)
    "copyright": r"(©|(\(c\)|copyright)(?=\s*\d{4})|copyright\s*©)\s*(\d{4}(\s*[-–]\s*\d{4})?)?"
    r"[^.!?]{0,100}\.?"
    r"( all rights reserved\.?)?",
    "comment-form": r"your email address will not be published\.?( required fields are marked \*?)?"
    r"|required fields are marked \*?|name\s*\*?|email\s*\*?|website|save my name.*",
}

_WHOLE = {name: re.compile(rf"(?:{rx})", re.I) for name, rx in _WHOLE_LINE.items()}

# Prose that is still clutter: cookie notices and comment-form boilerplate.
_COOKIE_WORDS = re.compile(r"\bcookies?\b", re.I)
_CONSENT = re.compile(
    r"\b(consent|accept|we use|this (web)?site uses|utiliza|utilizamos|usamos|consentimiento"
    r"|navegando|browsing|utilise|verwendet|akzeptieren|política|policy)\b",
    re.I,
)
_COMMENT_FORM = re.compile(r"your email address will not be published", re.I)

# Calls to action a page puts between or after the paragraphs, each a sentence of its own:
# named by their shape (an imperative and what it asks for), and only in a short block, so
# that an article that reports on a newsletter or a privacy policy keeps its sentences.
_PROMPTS: dict[str, re.Pattern[str]] = {
    "newsletter": re.compile(
        r"\b(subscribe|sign up|sign-up|register)\b[^.!?]{0,80}"
        r"\b(newsletters?|in your inbox|to your inbox|email updates|daily briefing)\b",
        re.I,
    ),
    "consent": re.compile(
        r"\byou (agree|consent) to (our|the)\b[^.!?]{0,40}\b(privacy|terms|policy|cookies?)\b",
        re.I,
    ),
    "teaser": re.compile(r"^(read more|more|see also|watch|listen)\s*:\s+\S", re.I),
    "video-caption": re.compile(r"\S.*\bCLOSE$"),
}
PROMPT_MAX = 300  # characters: a prompt is a sentence or two, never a paragraph of its own

# After these, what follows belongs to other articles, not this one.
RELATED = "related"
# These end the article body when they come after its last paragraph.
FOOTER = frozenset({"previous-next", "back-to-top", "share", "comments", "comment-form", RELATED})

_SEPARATOR = re.compile(r"^[\s*•·\-_=~#]{3,}$")


def clutter_rule(text: str) -> str | None:
    """The name of the rule that makes `text` clutter, or None if it is content."""
    line = text.strip().strip("•·|").strip()
    if not line:
        return "empty"
    if len(line) <= 120:
        for name, pattern in _WHOLE.items():
            if pattern.fullmatch(line):
                return name
    if len(line) < 700 and _COOKIE_WORDS.search(line) and _CONSENT.search(line):
        return "cookie-banner"
    if len(line) < 200 and _COMMENT_FORM.search(line):
        return "comment-form"
    if len(line) <= PROMPT_MAX:
        for name, prompt in _PROMPTS.items():
            if prompt.search(line):
                return name
    return None


def is_separator(text: str) -> bool:
    return bool(_SEPARATOR.match(text.strip()))
