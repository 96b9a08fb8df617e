"""GET /errors/{code}: a page that explains an MP error code to a person (the error_uri target), in the portal's
look (Designsystemet, the same header), in Norwegian Bokmål or English, with a way back."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from portvakt.oauth.errors import MPCode
from portvakt.oauth.mp_codes import MP_CODES
from portvakt.portal.assets import find_assets
from portvakt.portal.i18n import Translator, is_language
from portvakt.portal.security import CONTENT_SECURITY_POLICY

if TYPE_CHECKING:
    from jinja2 import Environment
    from markupsafe import Markup

#: The portal's language cookie (portal.web.LANGUAGE_COOKIE; set for the whole site, so it reaches these pages).
LANGUAGE_COOKIE = "portvakt_lang"
#: The portal's own stylesheet, beside its templates.
PORTAL_CSS = Path(__file__).resolve().parents[1] / "portal" / "static" / "portal.css"
#: The stylesheets these pages link to, served beside them (no code ends in .css), theme first.
STYLESHEETS = ("theme.css", "designsystemet.css", "portal.css")
CACHE = "public, max-age=86400"

NB_CODES: dict[str, tuple[str, str]] = {
    "MP-010": ("Grant-typen støttes ikke",
               "Token-endepunktet tar bare imot JWT bearer-grant (RFC 7523 §2.1). Send "
               "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer med den signerte granten i `assertion`."),
    "MP-011": ("Forespørselen eller granten kan ikke leses",
               "Skjemaet eller JWT-granten kunne ikke leses: en parameter mangler eller er gjentatt, granten er ikke "
               "en kompakt JWS, eller et claim har feil type. Teksten etter kolonet sier hvilken del."),
    "MP-012": ("Granten er allerede brukt",
               "Hver JWT-grant kan brukes én gang. Lag en ny grant, med ny `jti`, for hver token-forespørsel."),
    "MP-100": ("Ukjent klient",
               "Ingen aktiv klient har `client_id`-en som står i grantens `iss`-claim. Sjekk client_id-en, at "
               "klienten er aktiv, og at du snakker med riktig miljø."),
    "MP-110": ("Feil audience",
               "Grantens `aud` må være denne serverens issuer-identifikator, slik den står i "
               "/.well-known/oauth-authorization-server (en manglende skråstrek på slutten godtas)."),
    "MP-120": ("Sertifikatet godtas ikke",
               "Virksomhetssertifikatet i grantens `x5c`-header ble ikke godtatt: det er utløpt, ikke gyldig ennå, "
               "tilbakekalt, utstedt av en sertifikatutsteder denne serveren ikke stoler på, kjeden kan ikke "
               "verifiseres, eller det kan ikke brukes til signering (mangler digitalSignature). Teksten etter "
               "punktumet sier hva. Produksjons- og testsertifikater kommer fra ulike utstedere, så et "
               "produksjonssertifikat avvises i et testmiljø og omvendt (docs/protocol.md §5)."),
    "MP-121": ("Utløpt nøkkel",
               "Nøkkelen `kid` peker på, ble registrert for mer enn et år siden. Nøkler utløper ett år etter at de "
               "ble registrert; registrer den på nytt, eller en ny nøkkel, i klientens JWK-sett."),
    "MP-122": ("Sertifikatet tilhører en annen organisasjon",
               "Organisasjonsnummeret i virksomhetssertifikatet (organizationIdentifier NTRNO-…, eller "
               "serialNumber) er ikke klientens `client_orgno`. Signer med din egen organisasjons sertifikat, "
               "eller bruk klienten som er registrert for sertifikatets organisasjon."),
    "MP-123": ("Ugyldig x5c-header",
               "`x5c`-headeren må være en JSON-liste med base64-kodede DER-sertifikater (RFC 7517 §4.7)."),
    "MP-124": ("Signaturen stemmer ikke",
               "Grantens signatur kan ikke verifiseres med den registrerte nøkkelen `kid` peker på. Signer med den "
               "private nøkkelen som hører til den offentlige nøkkelen."),
    "MP-125": ("Algoritmen er ikke tillatt",
               "Granter må signeres med RS256, RS384 eller RS512. `none`, HMAC (HS*) og andre algoritmer avvises."),
    "MP-126": ("Ukjent kid",
               "`kid`-en i JWT-headeren er ikke en av nøklene som er registrert på klienten. Se klientens nøkler, "
               "eller registrer den offentlige nøkkelen først."),
    "MP-127": ("kid mangler",
               "Klienten har registrerte nøkler, så grantene må peke på en av dem med `kid` i JWT-headeren (og kan "
               "ikke bruke x5c)."),
    "MP-128": ("En nøkkel må registreres først",
               "Et virksomhetssystem må ha sin egen asymmetriske nøkkel. Det kan ikke hente tokens før en offentlig "
               "nøkkel er registrert på det, og det bruker aldri virksomhetssertifikat. Det samme gjelder når den "
               "siste nøkkelen er utløpt."),
    "MP-129": ("Sertifikat er ikke tillatt for et system",
               "Et virksomhetssystem må ha sin egen asymmetriske nøkkel, og grantene peker på den med `kid`. "
               "Organisasjonens virksomhetssertifikat avvises her, med eller uten kid: det ville virket for alle "
               "organisasjonens systemer på en gang (problemet med universalnøkkel, docs/protocol.md §3.2 og §5)."),
    "MP-130": ("Granten er utløpt",
               "Grantens `exp` er passert. Lag en ny grant rett før hver forespørsel, og sjekk at klokka di er "
               "synkronisert (NTP)."),
    "MP-131": ("Granten er utstedt i framtida",
               "Grantens `iat` er mer enn 10 sekunder foran klokka til denne serveren. Synkroniser klokka di."),
    "MP-132": ("Granten lever for lenge",
               "En grant kan leve høyst 120 sekunder: `exp` minus `iat` må være 120 eller mindre."),
    "MP-133": ("Granten ble utstedt for lenge siden",
               "Denne serveren kjører i streng modus (beslutning T13): grantens `iat` må være innenfor 10 sekunder "
               "av klokka til denne serveren, begge veier, slik Maskinporten krever, ikke bare innenfor grantens "
               "levetid på 120 sekunder. Lag granten rett før forespørselen og synkroniser klokka di (NTP)."),
    "MP-200": ("Ugyldig scope",
               "Hvert scope du ber om, må være registrert på klienten og aktivt. Legg scopet til klienten, eller be "
               "bare om scopes den har."),
    "MP-201": ("Scopet er ikke tillatt for integrasjonstypen",
               "API-eieren har begrenset dette scopet til andre integrasjonstyper enn klientens."),
    "MP-250": ("Ingen tilgang",
               "Organisasjonen står ikke på tilgangslista til scopet. API-eieren må gi organisasjonen tilgang til "
               "scopet."),
    "MP-251": ("Ingen delegering",
               "Kunden har ikke delegert scopet til leverandøren i Altinn. Tilgangsstyreren hos kunden må delegere "
               "API-et (den delegerbare tilgangen) til leverandørens organisasjon."),
    "MP-260": ("consumer_org er klientens egen",
               "consumer_org peker på organisasjonen som eier klienten. Utelat consumer_org for å handle for din "
               "egen organisasjon."),
    "MP-261": ("Scopet har ingen delegeringskilde",
               "Et token på vegne av en kunde (consumer_org) kan bare inneholde scopes som API-eieren har åpnet for "
               "delegering gjennom en delegeringskilde."),
    "MP-270": ("authorization_details som skjemaparameter",
               "Token-forespørselen hadde skjemaparameteren `authorization_details` (RFC 9396 §6.2). Denne "
               "serveren leser, som Maskinporten, autorisasjonsdetaljer bare fra den signerte JWT-granten: legg "
               "`authorization_details`-claimet i granten, for eksempel for en systembruker i Altinn "
               "(urn:altinn:systemuser, docs/protocol.md §6.5), og utelat skjemaparameteren."),
    "MP-290": ("Delegeringskilden svarer ikke",
               "Portvakt fikk ikke spurt delegeringskilden (Altinn-siden) om kunden har delegert scopet. Tokens "
               "som trenger en delegering, avvises til den svarer."),
    "MP-291": ("Tilbakekallingslista er utilgjengelig",
               "Virksomhetssertifikatets status må bekreftes før et token utstedes, og sertifikatutstederens "
               "tilbakekallingsliste (CRL) kunne ikke hentes i tide. Ingen token ble utstedt; send en ny grant "
               "etter Retry-After-pausen."),
    "MP-292": ("Systemregisteret svarer ikke",
               "Portvakt fikk ikke spurt systemregisteret (Altinn-siden) om systembrukeren som grantens "
               "`authorization_details` peker på. Tokens for systembrukere avvises til det svarer; send en ny grant "
               "etter Retry-After-pausen."),
    "MP-301": ("Ukjent type autorisasjonsdetaljer",
               "Grantens `authorization_details` må være en JSON-liste med nøyaktig ett objekt med en `type` som "
               "denne serveren støtter; metadataene lister dem under `authorization_details_types_supported` "
               "(urn:altinn:systemuser). Spør etter én kunde per grant."),
    "MP-302": ("Ukjente felt i autorisasjonsdetaljene",
               "Et urn:altinn:systemuser-objekt kan bare ha `type`, `systemuser_org` og `externalRef`, og "
               "`systemuser_org` bare `authority` og `ID`. Teksten etter kolonet sier hvilket felt som ikke hører "
               "hjemme der."),
    "MP-303": ("Ugyldige verdier i autorisasjonsdetaljene",
               "En verdi i grantens `authorization_details` er ugyldig, eller ingen systembruker passer. "
               "`systemuser_org` må være {\"authority\": \"iso6523-actorid-upis\", \"ID\": \"0192:<orgnr>\"} og peke "
               "på kunden som eier systembrukeren (for en klientsystembruker: regnskapsføreren eller revisoren, "
               "aldri en av klientene); `externalRef`, om den er med, en tekst; og granten kan ikke samtidig ha "
               "`consumer_org`. Er verdiene gyldige, men ingen systembruker passer, er feilen "
               "invalid_altinn_customer_configuration: sjekk at systemet i systemregisteret har denne client_id-en, "
               "at kunden har godkjent systembrukeren og ikke slettet den, og at granten sender den externalRef-en "
               "systembrukeren ble laget med (uten externalRef brukes kundens organisasjonsnummer)."),
    "MP-429": ("For mange forespørsler",
               "Serveren begrenser hvor ofte tokens kan hentes: per avsenderadresse (alle forespørsler til /token "
               "teller) og per klient (hvert token som utstedes til den, teller; en grant som ikke kan verifiseres, "
               "teller aldri mot klienten den nevner). Svaret er HTTP 429 med Retry-After, sekundene til neste "
               "forespørsel slippes gjennom. Et access token lever i `expires_in` sekunder: ta vare på det og "
               "bruk det til kort tid før det, i stedet for å hente et nytt for hvert kall."),
    "MP-500": ("Intern feil",
               "Noe uventet gikk galt på serveren. Oppgi trace_id-en til driftsteamet."),
    "MP-503": ("Registeret er utilgjengelig",
               "Databasen til Portvakt var opptatt eller kunne ikke nås i tide, så granten kunne ikke sjekkes eller "
               "lagres. Ingen token ble utstedt; send en ny grant etter Retry-After-pausen."),
    "MP-504": ("Registeret er ikke bekreftet oppdatert",
               "Denne noden fikk ikke bekreftet det mellomlagrede registeret (klienter, nøkler, scopes, tilganger) "
               "mot databasen innenfor den innstilte grensen, så en fjernet nøkkel eller en tilbakekalt tilgang kan "
               "fortsatt se gyldig ut her. Den avviser tokens til den er i takt igjen."),
}


def _code_spans(text: str) -> Markup:
    """A catalogue text with `backticks` as <code> elements; everything else escaped."""
    from markupsafe import Markup, escape

    parts = text.split("`")
    return Markup("").join(escape(p) if i % 2 == 0 else Markup("<code>") + escape(p) + Markup("</code>")
                           for i, p in enumerate(parts))


@functools.cache
def _env() -> Environment:
    """The pages' templates, loaded on the first page asked for (a server that shows none loads no Jinja2)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=select_autoescape(["html"]))
    env.filters["code_spans"] = _code_spans
    return env


def language(request: Request) -> str:
    """?lang=nb|en, else the portal's language cookie, else the portal's default language (Bokmål)."""
    for chosen in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if is_language(chosen):
            return str(chosen)
    settings = getattr(getattr(request.app.state, "runtime", None), "settings", None)
    default = settings.portal.default_language if settings is not None else "nb"
    return str(default)


def _has_portal(request: Request) -> bool:
    """The portal is served by this process too (at /portal), so the pages can link to it."""
    settings = getattr(getattr(request.app.state, "runtime", None), "settings", None)
    return settings is not None and "portal" in settings.roles


def texts(entry: MPCode, lang: str) -> tuple[str, str]:
    """(title, explanation) of a code in the language: Bokmål from NB_CODES, English from the catalogue."""
    if lang == "nb" and entry.code in NB_CODES:
        return NB_CODES[entry.code]
    return entry.title, entry.explanation


@functools.cache
def _stylesheet_files(assets_dir: Path | None) -> dict[str, Path]:
    """The stylesheets by URL name: Designsystemet's from node_modules (as the portal finds them), and portal.css."""
    files = dict(find_assets(assets_dir))
    if PORTAL_CSS.is_file():
        files["portal.css"] = PORTAL_CSS
    return files


def _stylesheets(request: Request) -> dict[str, Path]:
    settings = getattr(getattr(request.app.state, "runtime", None), "settings", None)
    return _stylesheet_files(settings.portal.assets_dir if settings is not None else None)


def _render(request: Request, *, entry: MPCode | None, code: str | None, status: int = 200) -> Response:
    lang = language(request)
    t = Translator("en" if lang == "en" else "nb")
    files = _stylesheets(request)
    rows = [(c, texts(c, lang)[0]) for c in MP_CODES.values()]
    title, explanation = texts(entry, lang) if entry else ("", "")
    page = _env().get_template("error.html").render(
        t=t, lang=lang, other="nb" if lang == "en" else "en", entry=entry, code=code, rows=rows, title=title,
        explanation=explanation, stylesheets=[name for name in STYLESHEETS if name in files],
        portal=_has_portal(request), here=request.url.path,
        keep=f"?lang={lang}" if is_language(request.query_params.get("lang")) else "")
    headers = {"cache-control": CACHE, "vary": "cookie", "content-security-policy": CONTENT_SECURITY_POLICY,
               "x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}
    return HTMLResponse(page, status_code=status, headers=headers)


def _stylesheet(request: Request, name: str) -> Response | None:
    """One of the pages' stylesheets, or None when `name` is not one."""
    path = _stylesheets(request).get(name)
    if path is None:
        return None
    return FileResponse(path, media_type="text/css", headers={"cache-control": "public, max-age=3600",
                                                                "x-content-type-options": "nosniff"})


async def error_page(request: Request) -> Response:
    """One page per code; unknown codes get a 404 page listing the known ones. The pages' stylesheets are served
    on this route too (their names end in .css, no code does)."""
    code = str(request.path_params["code"])
    if code.endswith(".css"):
        found = _stylesheet(request, code)
        if found is not None:
            return found
    entry = MP_CODES.get(code)
    return _render(request, entry=entry, code=code[:40], status=200 if entry else 404)


async def error_index(request: Request) -> Response:
    """All codes on one page."""
    return _render(request, entry=None, code=None)

