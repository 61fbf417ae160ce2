"""English -> Spanish sentence pairs from a small hand-written grammar, each with its word alignment.

The lexicon below (a few hundred English and Spanish lemmas) and the grammar are the whole data source:
nothing is downloaded. `lexicon_check.py` checks the lemmas against Debian's word lists and dictionary.

What the grammar covers (all lower case, no punctuation, words separated by one space):
- noun phrases: determiner or number, at most one adjective, a noun. Spanish puts the adjective after the
  noun ("the red car" -> "el coche rojo") and makes determiners and adjectives agree with the noun in
  gender and number ("the red houses" -> "las casas rojas", "our old cars" -> "nuestros coches viejos");
  "el" is also the article of the feminine "agua" ("the cold water" -> "el agua fría");
- present-tense verbs conjugated for the subject (yo como, tú comes, él come, nosotros comemos, ellos
  comen), regular and irregular ones (tener, ir, querer, dormir, conocer, ...);
- transitive sentences, with the "personal a" before a person object ("she sees the man" -> "ella ve al
  hombre"), intransitive ones with a place, motion ("goes to the park" -> "va al parque", "comes from the
  city" -> "viene de la ciudad"), with a + el -> al and de + el -> del;
- "to be" as ser (properties) or estar (states and places), chosen by the adjective: "the car is red" ->
  "el coche es rojo", "the soup is cold" -> "la sopa está fría", "the cat is under the table" -> "el gato
  está debajo de la mesa"; two adjectives joined by "and" ("y", written "e" before an i- sound);
- negation: "does not eat" -> "no come", "is not" -> "no es".

Alignment: for every Spanish word, the indices of the English word(s) it translates (an empty list for
a Spanish word with no English counterpart, such as the personal "a"). Contractions align to both
words ("al" <- "to the"), do-support to the verb ("no come" <- "does not eat": "no" <- "not",
"come" <- "does eat"), multi-word verbs to all their words ("busca" <- "looks for").

Usage: python pairs.py OUTDIR [--train N] [--heldout N] [--seed S]   -> OUTDIR/{train,heldout}.jsonl
       python pairs.py --show 20                                     (print a few pairs)
Every line of the .jsonl files is {"en": ..., "es": ..., "align": [[english word indices] per Spanish word]}.
The held-out pairs are drawn first; a training pair whose English or Spanish sentence equals a held-out
one is rejected, so no held-out sentence (on either side) is ever seen in training.
"""
import argparse
import functools
import json
import os
import random
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------------------------------------
# Lexicon
# ---------------------------------------------------------------------------------------------------------

# Nouns, one per line: english[/plural] spanish[/plural] gender tags...
# Plurals are given where the rule (English +s/+es/y->ies; Spanish +s after a vowel, +es after a
# consonant, z->ces, written accent of -ón/-án/-és dropped) does not make them.
# Tags choose which verbs, adjectives and prepositions a noun goes with ("onplace": "on the beach", not "in").
NOUNS = """
man/men hombre m person
woman/women mujer f person
boy niño m person
girl niña f person
father padre m person
mother madre f person
brother hermano m person
sister hermana f person
son hijo m person
daughter hija f person
grandfather abuelo m person
grandmother abuela f person
uncle tío m person
aunt tía f person
king rey/reyes m person
queen reina f person
friend amigo m person
teacher profesor m person
doctor médico m person
student estudiante m person
neighbor vecino m person
baby/babies bebé m person
farmer granjero m person
cook cocinero m person
writer escritor m person
singer cantante m person
painter pintor m person
dog perro m animal pet
cat gato m animal pet
horse caballo m animal pet
cow vaca f animal
bird pájaro m animal pet
mouse/mice ratón m animal pet
pig cerdo m animal
duck pato m animal
hen gallina f animal
rabbit conejo m animal pet
lion león m animal
tiger tigre m animal
bear oso m animal
wolf/wolves lobo m animal
fox/foxes zorro m animal
frog rana f animal
snake serpiente f animal
monkey mono m animal
elephant elefante m animal
goat cabra f animal
bee abeja f animal
spider araña f animal
turtle tortuga f animal pet
owl búho m animal
donkey burro m animal
apple manzana f food fruit
orange naranja f food fruit
banana plátano m food fruit
egg huevo m food cook
cake pastel m food cut
cookie galleta f food
tomato/tomatoes tomate m food fruit cut cook
potato/potatoes patata f food cut cook
carrot zanahoria f food cut cook
lemon limón m food fruit cut
pear pera f food fruit
strawberry fresa f food fruit
grape uva f food fruit
onion cebolla f food cut cook
peach/peaches melocotón m food fruit
sandwich/sandwiches bocadillo m food
salad ensalada f food
bread pan m food mass cut
rice arroz m food mass cook
cheese queso m food mass cut
meat carne f food mass cut cook
soup sopa f food mass cook
chicken pollo m food mass cook
butter mantequilla f food mass
chocolate chocolate m food mass
salt sal f food mass
water agua f drink mass el
milk leche f drink mass
coffee café m drink mass
tea té m drink mass
juice zumo m drink mass
wine vino m drink mass
beer cerveza f drink mass
book libro m read write thing open surface
letter carta f read write thing open
newspaper periódico m read thing
magazine revista f read thing
map mapa m read thing
story/stories cuento m read write
poem poema m read write
note nota f read write thing
list lista f read write
message mensaje m read write
song canción f write song
table mesa f thing furniture surface under
chair silla f thing furniture surface under
bed cama f thing furniture surface under
desk escritorio m thing furniture surface under
sofa sofá/sofás m thing furniture surface
door puerta f thing open
window ventana f thing open break
box/boxes caja f thing open container surface
bag bolsa f thing open container
basket cesta f thing container
key llave f thing small
pen bolígrafo m thing small
pencil lápiz/lápices m thing small
cup taza f thing break container wash
glass/glasses vaso m thing break container wash
plate plato m thing break wash
bottle botella f thing open break container
knife/knives cuchillo m thing small wash
spoon cuchara f thing small wash
fork tenedor m thing small wash
clock reloj m thing break
phone teléfono m thing break small
computer ordenador m thing break
lamp lámpara f thing break
ball pelota f thing
hat sombrero m thing wear wash
shirt camisa f thing wear wash
dress/dresses vestido m thing wear wash
shoe zapato m thing wear
coat abrigo m thing wear wash
umbrella paraguas/paraguas m thing
picture cuadro m thing
flower flor f thing
toy juguete m thing break
ring anillo m thing small
mirror espejo m thing break
blanket manta f thing wash
towel toalla f thing wash
candle vela f thing
wallet cartera f thing small
guitar guitarra f thing
car coche m vehicle container
bicycle bicicleta f vehicle
bus/buses autobús m vehicle container
train tren m vehicle container
truck camión m vehicle container
plane avión m vehicle container
boat barco m vehicle container
taxi taxi m vehicle container
house casa f place building live work sleep play study eat
city/cities ciudad f place outdoor live work walk travel
park parque m place outdoor play run walk sing dance wait eat
school escuela f place building work study play sing eat
garden jardín m place outdoor work sleep play eat
street calle f place outdoor play run walk wait street
river río m place outdoor swim long river
forest bosque m place outdoor live run walk
beach/beaches playa f place outdoor travel onplace
mountain montaña f place outdoor travel
church/churches iglesia f place building sing
hospital hospital m place building work
shop tienda f place building work
market mercado m place building work
kitchen cocina f place room work eat
room habitación f place room sleep play study sing dance wait
office oficina f place building work wait
library/libraries biblioteca f place building work study
bank banco m place building work
village pueblo m place outdoor live work walk travel
field campo m place outdoor work play run
lake lago m place outdoor swim
bridge puente m place outdoor under
station estación f place building
restaurant restaurante m place building work dance eat
hotel hotel m place building work
museum museo m place building work
airport aeropuerto m place building work
farm granja f place outdoor onplace
island isla f place outdoor travel onplace
castle castillo m place building live
tower torre f place building
square plaza f place outdoor dance
sea mar m place outdoor swim
country/countries país/países m place outdoor live travel
pool piscina f place outdoor swim
tree árbol m place outdoor under
"""

# Adjectives: english spanish[/feminine/plural masc/plural fem] copula noun-tags...
# copula: the verb "to be" takes with this adjective (ser for properties, estar for states).
ADJECTIVES = """
red rojo ser thing vehicle building
white blanco ser thing vehicle building animal
black negro ser thing vehicle building animal
green verde ser thing vehicle building fruit
blue azul ser thing vehicle building
yellow amarillo ser thing vehicle building fruit
brown marrón/marrón/marrones/marrones ser thing animal
gray gris ser thing vehicle building animal
purple morado ser thing vehicle fruit
big grande ser thing vehicle building outdoor animal fruit
small pequeño ser thing vehicle building outdoor animal person fruit
tall alto ser person building tree
long largo ser read river street
new nuevo ser thing vehicle building
old viejo ser person animal thing vehicle building
young joven/joven/jóvenes/jóvenes ser person animal
beautiful bonito ser thing building outdoor animal
ugly feo ser thing building animal
clean limpio estar thing vehicle building room
dirty sucio estar thing vehicle building room animal
cheap barato ser thing vehicle food drink read
expensive caro ser thing vehicle food drink building read
fast rápido ser vehicle animal
slow lento ser vehicle animal
rich rico ser person
poor pobre ser person
strong fuerte ser person animal
happy feliz/feliz/felices/felices ser person animal
sad triste estar person animal
tired cansado estar person animal
kind amable ser person
intelligent inteligente ser person animal
funny gracioso ser person animal read
famous famoso ser person building
quiet tranquilo ser person animal outdoor building
noisy ruidoso ser outdoor building animal vehicle
modern moderno ser building vehicle thing
hot caliente estar food drink
cold frío estar food drink
fresh fresco estar food
sweet dulce ser fruit
delicious delicioso ser food drink
empty vacío estar container building
full lleno estar container building
dark oscuro ser room building outdoor
"""

# Verbs: english spanish-infinitive forms frames subjects objects places
# forms: yo,tú,él,nosotros,ellos if irregular ("-": the regular -ar/-er/-ir endings).
# frames: obj (transitive, a thing), per (transitive, a person: "personal a"), loc (intransitive, "in"
# a place), to / from (motion to or from a place), with (intransitive, "with" a person or animal);
# several frames or tags are joined by "+". objects: tags of the objects (obj, per) or companions
# (with); places: tags of the places (loc, to, from). English multi-word verbs use "_" ("look_for").
VERBS = """
eat comer - obj+loc person+animal food eat
drink beber - obj person+animal drink -
read leer - obj+loc person read study
write escribir - obj person write -
buy comprar - obj person food+drink+thing+vehicle+pet -
sell vender - obj person food+thing+vehicle+pet+building -
open abrir - obj person open -
close cerrar cierro,cierras,cierra,cerramos,cierran obj person open -
want querer quiero,quieres,quiere,queremos,quieren obj person+animal food+drink+thing+vehicle -
have tener tengo,tienes,tiene,tenemos,tienen obj person thing+vehicle+pet+building -
see ver veo,ves,ve,vemos,ven obj+per person+animal thing+vehicle+building+person -
carry llevar - obj person+animal thing+food -
wear llevar - obj person wear -
find encontrar encuentro,encuentras,encuentra,encontramos,encuentran obj person+animal thing+food -
need necesitar - obj person food+drink+thing+vehicle -
clean limpiar - obj person thing+vehicle+room+building -
paint pintar - obj person thing+vehicle+building+room -
wash lavar - obj person wash+vehicle+fruit -
cook cocinar - obj person cook -
break romper - obj person+animal break -
use usar - obj person thing+vehicle -
bring traer traigo,traes,trae,traemos,traen obj person+animal thing+food+drink -
look_for buscar - obj+per person+animal thing+food+person -
cut cortar - obj person cut -
draw dibujar - obj person thing+vehicle+building -
sing cantar - obj+loc person song sing
help ayudar - per person person -
call llamar - per person person -
visit visitar - per+obj person person+building -
know conocer conozco,conoces,conoce,conocemos,conocen per person person -
invite invitar - per person person -
live vivir - loc+with person+animal person live
work trabajar - loc+with person person work
sleep dormir duermo,duermes,duerme,dormimos,duermen loc person+animal - sleep
play jugar juego,juegas,juega,jugamos,juegan loc+with person+animal person+animal play
run correr - loc+with person+animal person+animal run
swim nadar - loc person+animal - swim
study estudiar - loc+with person person study
dance bailar - loc+with person person dance
wait esperar - loc person - wait
walk caminar - loc+with person+animal person+animal walk
go ir voy,vas,va,vamos,van to person+animal - place
travel viajar - to person - travel
come venir vengo,vienes,viene,venimos,vienen from person+animal - place
return volver vuelvo,vuelves,vuelve,volvemos,vuelven to+from person+animal - place
"""

# Subject pronouns: english, spanish, person index (0 yo, 1 tú, 2 él/ella, 3 nosotros, 4 ellos), gender.
# English "you", "we" and "they" have no gender; the grammar translates them as tú, nosotros, ellos.
PRONOUNS = [("I", "yo", 0, "m"), ("you", "tú", 1, "m"), ("he", "él", 2, "m"), ("she", "ella", 2, "f"),
            ("we", "nosotros", 3, "m"), ("they", "ellos", 4, "m")]
SER = ["soy", "eres", "es", "somos", "son"]
ESTAR = ["estoy", "estás", "está", "estamos", "están"]
BE_EN = ["am", "are", "is", "are", "are"]

# Determiners: english -> Spanish forms (masculine singular, feminine singular, masculine plural, feminine plural)
DETS = {
    "the": ("el", "la", "los", "las"),
    "a": ("un", "una", None, None),
    "one": ("un", "una", None, None),
    "this": ("este", "esta", None, None),
    "that": ("ese", "esa", None, None),
    "these": (None, None, "estos", "estas"),
    "those": (None, None, "esos", "esas"),
    "my": ("mi", "mi", "mis", "mis"),
    "our": ("nuestro", "nuestra", "nuestros", "nuestras"),
    "his": ("su", "su", "sus", "sus"),
    "her": ("su", "su", "sus", "sus"),
    "their": ("su", "su", "sus", "sus"),
    "some": (None, None, "unos", "unas"),
    "many": (None, None, "muchos", "muchas"),
}
NUMBERS = {"two": "dos", "three": "tres", "four": "cuatro", "five": "cinco", "six": "seis", "seven": "siete",
           "eight": "ocho", "nine": "nueve", "ten": "diez"}
# Prepositions of place after "to be" (estar): english -> Spanish words, which nouns they take.
PLACE_PREPS = {"in": (["en"], "place+container"), "on": (["sobre"], "surface"),
               "under": (["debajo", "de"], "under"), "near": (["cerca", "de"], "place"),
               "behind": (["detrás", "de"], "building+furniture+tree")}

# Determiner weights for noun phrases, by number.
SG_DETS = [("the", 40), ("a", 16), ("one", 3), ("this", 7), ("that", 6), ("my", 8), ("our", 5), ("his", 5),
           ("her", 5), ("their", 5)]
PL_DETS = [("the", 30), ("these", 7), ("those", 6), ("my", 6), ("our", 5), ("his", 4), ("her", 4), ("their", 4),
           ("some", 7), ("many", 7), ("NUM", 20)]
MASS_DETS = [("the", 45), ("this", 10), ("that", 8), ("my", 10), ("our", 6), ("his", 7), ("her", 7), ("their", 7)]


def en_plural(w):
    if w.endswith(("s", "x", "ch", "sh")):
        return w + "es"
    if w.endswith("y") and w[-2] not in "aeiou":
        return w[:-1] + "ies"
    return w + "s"


UNACCENT = str.maketrans("áéíóú", "aeiou")


def es_plural(w):
    if w[-1] in "aeiouáéó":
        return w + "s"
    if w.endswith("z"):
        return w[:-1] + "ces"
    if len(w) >= 2 and w[-2] in "áéíóú" and w[-1] in "ns":
        return w[:-2] + w[-2].translate(UNACCENT) + w[-1] + "es"  # canción -> canciones, autobús -> autobuses
    return w + "es"


def en_third(v):
    if v == "have":
        return "has"
    if v.endswith(("s", "x", "ch", "sh", "o")):
        return v + "es"
    if v.endswith("y") and v[-2] not in "aeiou":
        return v[:-1] + "ies"
    return v + "s"


def es_present(inf):
    stem, end = inf[:-2], inf[-2:]
    table = {"ar": ["o", "as", "a", "amos", "an"], "er": ["o", "es", "e", "emos", "en"],
             "ir": ["o", "es", "e", "imos", "en"]}[end]
    return [stem + t for t in table]


@dataclass
class Noun:
    en: str
    en_pl: str
    es: str
    es_pl: str
    gender: str
    tags: set
    mass: bool = False
    el_feminine: bool = False  # "el agua": feminine, but "el"/"un" in the singular


@dataclass
class Adjective:
    en: str
    forms: tuple  # masc sg, fem sg, masc pl, fem pl
    copula: str
    tags: set

    def form(self, gender, plural):
        return self.forms[(2 if plural else 0) + (1 if gender == "f" else 0)]


@dataclass
class Verb:
    en: list  # English words of the base form, e.g. ["look", "for"]
    es: str
    forms: list
    frames: set
    subjects: set
    objects: set
    places: set

    def en_form(self, person):
        first = en_third(self.en[0]) if person == 2 else self.en[0]
        return [first] + self.en[1:]


def parse_nouns():
    out = []
    for line in NOUNS.strip().splitlines():
        en, es, g, *tags = line.split()
        en, en_pl = en.split("/") if "/" in en else (en, en_plural(en))
        es, es_pl = es.split("/") if "/" in es else (es, es_plural(es))
        t = set(tags)
        out.append(Noun(en, en_pl, es, es_pl, g, t, mass="mass" in t, el_feminine="el" in t))
    return out


def parse_adjectives():
    out = []
    for line in ADJECTIVES.strip().splitlines():
        en, es, cop, *tags = line.split()
        if "/" in es:
            forms = tuple(es.split("/"))
        elif es.endswith("o"):
            forms = (es, es[:-1] + "a", es + "s", es[:-1] + "as")
        else:
            forms = (es, es, es_plural(es), es_plural(es))
        out.append(Adjective(en, forms, cop, set(tags)))
    return out


def parse_verbs():
    out = []
    for line in VERBS.strip().splitlines():
        en, es, forms, frames, subj, obj, places = line.split()
        forms = forms.split(",") if forms != "-" else es_present(es)
        tags = lambda x: set(x.split("+")) if x != "-" else set()
        out.append(Verb(en.split("_"), es, forms, tags(frames), tags(subj), tags(obj), tags(places)))
    return out


NOUN_LIST, ADJ_LIST, VERB_LIST = parse_nouns(), parse_adjectives(), parse_verbs()


def nouns_with(tags):
    return _nouns_with(frozenset(tags.split("+")) if isinstance(tags, str) else frozenset(tags))


@functools.lru_cache(maxsize=None)
def _nouns_with(tags):
    return [n for n in NOUN_LIST if n.tags & tags]


# ---------------------------------------------------------------------------------------------------------
# Grammar
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Phrase:
    """English words, Spanish words, and for each Spanish word the indices of its English words."""
    en: list = field(default_factory=list)
    es: list = field(default_factory=list)
    align: list = field(default_factory=list)

    def add(self, other):
        off = len(self.en)
        self.en += other.en
        self.es += other.es
        self.align += [[i + off for i in a] for a in other.align]
        return self

    def word(self, en, es, link=True):
        """Append English words and Spanish words that all translate each other (or Spanish words alone)."""
        en = en if isinstance(en, list) else ([en] if en else [])
        es = es if isinstance(es, list) else [es]
        off = len(self.en)
        self.en += en
        idx = list(range(off, off + len(en))) if link else []
        for w in es:
            self.es.append(w)
            self.align.append(list(idx))
        return self


def pick(rng, weighted):
    items, weights = zip(*weighted)
    return rng.choices(items, weights=weights)[0]


def fitting_adjectives(noun):
    return _fitting_adjectives(noun.en)


@functools.lru_cache(maxsize=None)
def _fitting_adjectives(noun_en):
    tags = next(n.tags for n in NOUN_LIST if n.en == noun_en)
    return [a for a in ADJ_LIST if a.tags & tags]


def article_a(next_word):
    return "an" if next_word[0] in "aeiou" else "a"


def noun_phrase(rng, noun, plural=None, p_adj=0.5, bare_ok=False):
    """A noun phrase around `noun`; returns (Phrase, plural, gender)."""
    if noun.mass:
        plural = False
    elif plural is None:
        plural = rng.random() < 0.5
    if noun.mass:
        det = pick(rng, MASS_DETS + ([("", 30)] if bare_ok else []))
    elif plural:
        det = pick(rng, PL_DETS + ([("", 15)] if bare_ok else []))
    else:
        det = pick(rng, SG_DETS)
    adjs = fitting_adjectives(noun)
    adj = rng.choice(adjs) if adjs and rng.random() < p_adj else None
    g = noun.gender
    en_noun = noun.en_pl if plural else noun.en
    es_noun = noun.es_pl if plural else noun.es
    first_en = adj.en if adj else en_noun
    p = Phrase()
    if det == "NUM":
        num = rng.choice(list(NUMBERS))
        p.word(num, NUMBERS[num])
    elif det:
        en_det = article_a(first_en) if det == "a" else det
        forms = DETS[det]
        gi = 0 if (g == "m" or (noun.el_feminine and det in ("the", "a", "one") and not plural)) else 1
        p.word(en_det, forms[(2 if plural else 0) + gi])
    # English: [adj] noun; Spanish: noun [adj]
    i_adj = len(p.en)
    if adj:
        p.en.append(adj.en)
    p.en.append(en_noun)
    i_noun = len(p.en) - 1
    p.es.append(es_noun)
    p.align.append([i_noun])
    if adj:
        p.es.append(adj.form(g, plural))
        p.align.append([i_adj])
    return p, plural, g


def subject(rng, classes, p_pronoun=0.3):
    """A subject: a pronoun or a noun phrase of a noun with one of `classes`; returns (Phrase, person, gender, plural)."""
    if "person" in classes and rng.random() < p_pronoun:
        en, es, person, g = rng.choice(PRONOUNS)
        return Phrase().word(en, es), person, g, person >= 3
    np_, plural, g = noun_phrase(rng, rng.choice(nouns_with(classes)))
    return np_, (4 if plural else 2), g, plural


def contract(p, prep_index, prep_en_idx):
    """a + el -> al, de + el -> del, where Spanish word `prep_index` is "a"/"de" and the next one "el"."""
    if p.es[prep_index] in ("a", "de") and prep_index + 1 < len(p.es) and p.es[prep_index + 1] == "el":
        merged = sorted(set(p.align[prep_index]) | set(p.align[prep_index + 1]))
        p.es[prep_index:prep_index + 2] = [p.es[prep_index] + "l" if p.es[prep_index] == "a" else "del"]
        p.align[prep_index:prep_index + 2] = [merged]


def verb_group(p, verb, person, negate):
    """Append the verb (with do-support and "not" in English when negated)."""
    en = verb.en_form(person)
    if negate:
        do = "does" if person == 2 else "do"
        i_do = len(p.en)
        p.en += [do, "not"]
        p.es.append("no")
        p.align.append([i_do + 1])
        en = verb.en  # base form after do/does
        start = len(p.en)
        p.en += en
        p.es.append(verb.forms[person])
        p.align.append([i_do] + list(range(start, start + len(en))))
    else:
        p.word(en, verb.forms[person])


def prep_phrase(rng, en_prep, es_words, noun, p_adj=0.35):
    """A preposition and a singular noun phrase ("to the park" -> "al parque")."""
    p = Phrase().word(en_prep, es_words)
    np_, _, _ = noun_phrase(rng, noun, plural=False, p_adj=p_adj)
    prep_last = len(p.es) - 1
    p.add(np_)
    contract(p, prep_last, None)
    return p


def s_transitive(rng, negate):
    verb = rng.choice([v for v in VERB_LIST if v.frames & {"obj", "per"}])
    frames = [f for f in ("obj", "per") if f in verb.frames]
    frame = rng.choice(frames)
    subj, person, _, _ = subject(rng, verb.subjects)
    p = subj
    verb_group(p, verb, person, negate)
    if frame == "per":
        obj_noun = rng.choice(nouns_with("person"))
        obj, _, _ = noun_phrase(rng, obj_noun)
        pa = len(p.es)
        p.es.append("a")  # the personal "a": no English counterpart
        p.align.append([])
        p.add(obj)
        contract(p, pa, None)
    else:
        obj_noun = rng.choice(nouns_with(verb.objects - {"person"}))
        obj, _, _ = noun_phrase(rng, obj_noun, bare_ok=True)
        p.add(obj)
    return p


def s_intransitive(rng, negate):
    verb = rng.choice([v for v in VERB_LIST if "loc" in v.frames])
    subj, person, _, _ = subject(rng, verb.subjects)
    p = subj
    verb_group(p, verb, person, negate)
    r = rng.random()
    if "with" in verb.frames and r < 0.3:
        p.add(prep_phrase(rng, "with", "con", rng.choice(nouns_with(verb.objects))))
    elif r < 0.9:
        p.add(prep_phrase(rng, "in", "en", rng.choice(nouns_with(verb.places))))
    return p


def s_motion(rng, negate):
    verb = rng.choice([v for v in VERB_LIST if v.frames & {"to", "from"}])
    frame = rng.choice([f for f in ("to", "from") if f in verb.frames])
    subj, person, _, _ = subject(rng, verb.subjects)
    p = subj
    verb_group(p, verb, person, negate)
    place = rng.choice(nouns_with(verb.places))
    p.add(prep_phrase(rng, frame, "a" if frame == "to" else "de", place))
    return p


def be_group(p, person, copula, negate):
    es = (SER if copula == "ser" else ESTAR)[person]
    if negate:
        i_be = len(p.en)
        p.en += [BE_EN[person], "not"]
        p.es += ["no", es]
        p.align += [[i_be + 1], [i_be]]
    else:
        p.word(BE_EN[person], es)


def s_copula_adjective(rng, negate):
    # choose the subject first, then an adjective that fits it
    if rng.random() < 0.25:
        en, es, person, g = rng.choice(PRONOUNS)
        p, plural = Phrase().word(en, es), person >= 3
        adjs = [a for a in ADJ_LIST if "person" in a.tags]
    else:
        noun = rng.choice([n for n in NOUN_LIST if fitting_adjectives(n)])
        p, plural, g = noun_phrase(rng, noun, p_adj=0.0)
        person = 4 if plural else 2
        adjs = fitting_adjectives(noun)
    a1 = rng.choice(adjs)
    be_group(p, person, a1.copula, negate)
    p.word(a1.en, a1.form(g, plural))
    others = [a for a in adjs if a.copula == a1.copula and a is not a1]
    if others and rng.random() < 0.2:
        a2 = rng.choice(others)
        f2 = a2.form(g, plural)
        # "y" is written "e" before a word that starts with the sound i ("alto e inteligente")
        conj = "e" if f2.startswith("i") or (f2.startswith("hi") and not f2.startswith("hie")) else "y"
        p.word("and", conj)
        p.word(a2.en, f2)
    return p


def s_copula_place(rng, negate):
    en_prep = rng.choice(list(PLACE_PREPS))
    es_prep, where = PLACE_PREPS[en_prep]
    place = rng.choice(nouns_with(where))
    if "place" in place.tags:
        classes = {"person", "animal"}
    else:
        classes = {"thing", "food", "animal", "read"}
    if en_prep == "in" and "onplace" in place.tags:
        en_prep = "on"  # "on the beach" -> "en la playa"
    subj, person, _, _ = subject(rng, classes, p_pronoun=0.25)
    p = subj
    be_group(p, person, "estar", negate)
    p.add(prep_phrase(rng, en_prep, es_prep, place))
    return p


def s_noun_phrase(rng, negate):
    np_, _, _ = noun_phrase(rng, rng.choice(NOUN_LIST), p_adj=0.8)
    return np_


TEMPLATES = [(s_transitive, 36), (s_intransitive, 16), (s_motion, 12), (s_copula_adjective, 16),
             (s_copula_place, 12), (s_noun_phrase, 8)]
P_NEGATE = 0.15


def sentence(rng):
    template = pick(rng, TEMPLATES)
    negate = template is not s_noun_phrase and rng.random() < P_NEGATE
    p = template(rng, negate)
    assert len(p.es) == len(p.align)
    return {"en": " ".join(p.en), "es": " ".join(p.es), "align": p.align}


def make_pairs(n_train, n_heldout, seed):
    """Held-out pairs first (unique), then training pairs (unique) that share no sentence with them."""
    rng = random.Random(seed)
    held, seen_en, seen_es = [], set(), set()
    while len(held) < n_heldout:
        s = sentence(rng)
        if s["en"] not in seen_en and s["es"] not in seen_es:
            held.append(s)
            seen_en.add(s["en"])
            seen_es.add(s["es"])
    held_es = set(seen_es)
    train, rejected = [], 0
    while len(train) < n_train:
        s = sentence(rng)
        if s["en"] in seen_en:
            continue
        if s["es"] in held_es:
            rejected += 1
            continue
        train.append(s)
        seen_en.add(s["en"])
    return train, held, rejected


ADJECTIVE_WORDS = {a.en for a in ADJ_LIST}


def adjective_reordering(pair):
    """True when the Spanish side puts a noun before its adjective: word j translates English word k and word
    j + 1 translates the adjective at k - 1 ("the red car" -> "el coche rojo")."""
    en, al = pair["en"].split(), pair["align"]
    return any(al[j] == [k] and al[j + 1] == [k - 1] and en[k - 1] in ADJECTIVE_WORDS
               for j in range(len(al) - 1) for k in al[j][:1] if k > 0)


def lexicon_stats():
    en_words, es_words = set(), set()
    for n in NOUN_LIST:
        en_words |= {n.en, n.en_pl}
        es_words |= {n.es, n.es_pl}
    for a in ADJ_LIST:
        en_words.add(a.en)
        es_words |= set(a.forms)
    for v in VERB_LIST:
        en_words |= {*v.en, en_third(v.en[0])}
        es_words |= set(v.forms)
    return {
        "nouns": len(NOUN_LIST), "nouns_m": sum(n.gender == "m" for n in NOUN_LIST),
        "nouns_f": sum(n.gender == "f" for n in NOUN_LIST), "adjectives": len(ADJ_LIST),
        "verbs": len(VERB_LIST), "spanish_verbs": len({v.es for v in VERB_LIST}),
        "irregular_verbs": sum(v.forms != es_present(v.es) for v in VERB_LIST),
        "determiners": len(DETS), "numbers": len(NUMBERS), "pronouns": len(PRONOUNS),
        "place_prepositions": len(PLACE_PREPS),
        "english_lemmas": len(NOUN_LIST) + len(ADJ_LIST) + len(VERB_LIST) + len(DETS) + len(NUMBERS)
                          + len(PRONOUNS) + len(PLACE_PREPS) + 6,  # + to, from, with, and, not, be/do
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", nargs="?")
    ap.add_argument("--train", type=int, default=200000)
    ap.add_argument("--heldout", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--show", type=int, default=0, help="print this many pairs and stop")
    a = ap.parse_args()
    if a.show:
        rng = random.Random(a.seed)
        for _ in range(a.show):
            s = sentence(rng)
            en = s["en"].split()
            links = " ".join(f"{w}<{'+'.join(en[i] for i in al) or '-'}" for w, al in zip(s["es"].split(), s["align"]))
            print(f"{s['en']}  ->  {s['es']}\n    {links}")
        return
    train, held, rejected = make_pairs(a.train, a.heldout, a.seed)
    os.makedirs(a.out, exist_ok=True)
    for name, rows in (("train", train), ("heldout", held)):
        with open(os.path.join(a.out, name + ".jsonl"), "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    stats = lexicon_stats()
    stats.update({"train_pairs": len(train), "heldout_pairs": len(held), "rejected_same_spanish": rejected,
                  "seed": a.seed})
    words_en = {w for r in train + held for w in r["en"].split()}
    words_es = {w for r in train + held for w in r["es"].split()}
    stats.update({"english_word_forms": len(words_en), "spanish_word_forms": len(words_es)})
    json.dump(stats, open(os.path.join(a.out, "pairs.json"), "w"), indent=1)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
