"""Make extra speaker data for calibration: sentences spoken by Festival's packaged voices.

FSDD has only 3 talkers, so its different-speaker trials cover 3 pairs. Festival's Debian voice
packages are built from recordings of real talkers (diphone, cluster-unit and HTS voices in
English, Czech, Finnish, Italian, Catalan, Russian), so synthesising sentences with each gives
more different-speaker pairs, in several languages. They are synthetic speech: the script
makes them for *different-speaker* trials only (same-voice trials of a synthesiser are far
more alike than two recordings of a person).

Needs Debian's ``festival`` and voice packages (root):

    apt-get install festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts \
        festvox-italp16k festvox-itapc16k festvox-czech-dita festvox-czech-machac \
        festvox-czech-krb festvox-ru festvox-suopuhe-lj festvox-suopuhe-mv festvox-ca-ona-hts

Writes benchmarks/data/festvox/{n}_{voice}_{k}.wav (gitignored): the FSDD naming convention,
so ``earwitness voices validate`` reads the speaker from the name.

Usage: .venv/bin/python benchmarks/speaker_data.py [--per-voice 12]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "data" / "festvox"

VOICES = {
    "kal_diphone": "en",
    "ked_diphone": "en",
    "cmu_us_slt_arctic_hts": "en",
    "czech_dita": "cs",
    "czech_machac": "cs",
    "czech_krb": "cs",
    "czech_ph": "cs",
    "hy_fi_mv_diphone": "fi",
    "suo_fi_lj_diphone": "fi",
    "lp_diphone": "it",
    "pc_diphone": "it",
    "upc_ca_ona_hts": "ca",
    "msu_ru_nsh_clunits": "ru",
}

TEXTS = {
    "en": [
        "The meeting will start at nine tomorrow morning in the main hall.",
        "We have received your message and will answer as soon as possible.",
        "Several vehicles were seen moving along the northern road last night.",
        "Please keep the door closed and do not open it for anyone.",
        "The weather will be dry and warm for most of the coming week.",
        "They said the bridge was repaired two years ago by local workers.",
        "Our statement concerns the events of the past few days in the city.",
        "Nobody expected the price of bread to rise again so quickly.",
        "The radio station broadcast the news twice before noon today.",
        "Bring the documents with you and wait near the entrance.",
        "Seven hundred people attended the gathering in the square.",
        "It is important to speak clearly when recording a message.",
        "The children walked home along the river after school.",
        "He promised to call again before the end of the month.",
    ],
    "cs": [
        "Dobrý den, dnes bude v celé zemi slunečno a teplo.",
        "Schůzka začne zítra v devět hodin ráno ve velkém sále.",
        "Děkujeme za vaši zprávu, odpovíme co nejdříve.",
        "Na severní silnici bylo v noci vidět několik aut.",
        "Prosím zavřete dveře a nikomu neotvírejte.",
        "Most byl opraven před dvěma lety místními dělníky.",
        "Nikdo nečekal, že cena chleba znovu tak rychle vzroste.",
        "Rozhlas odvysílal zprávy dvakrát před polednem.",
        "Vezměte s sebou doklady a počkejte u vchodu.",
        "Děti šly po škole domů podél řeky.",
        "Slíbil, že zavolá znovu před koncem měsíce.",
        "Na náměstí se sešlo sedm set lidí.",
        "Je důležité mluvit zřetelně, když nahráváte zprávu.",
        "Počasí bude suché a teplé po většinu týdne.",
    ],
    "fi": [
        "Hyvää päivää, tänään on aurinkoinen ja lämmin sää.",
        "Kokous alkaa huomenna kello yhdeksän suuressa salissa.",
        "Kiitos viestistänne, vastaamme mahdollisimman pian.",
        "Pohjoisella tiellä nähtiin useita autoja viime yönä.",
        "Pitäkää ovi kiinni älkääkä avatko sitä kenellekään.",
        "Silta korjattiin kaksi vuotta sitten paikallisten voimin.",
        "Kukaan ei odottanut leivän hinnan nousevan taas niin nopeasti.",
        "Radio lähetti uutiset kahdesti ennen puoltapäivää.",
        "Ottakaa asiakirjat mukaan ja odottakaa sisäänkäynnin luona.",
        "Lapset kävelivät koulun jälkeen kotiin joen vartta.",
        "Hän lupasi soittaa uudelleen ennen kuun loppua.",
        "Torille kokoontui seitsemänsataa ihmistä.",
        "On tärkeää puhua selvästi viestiä nauhoittaessa.",
        "Sää on kuiva ja lämmin suurimman osan viikosta.",
    ],
    "it": [
        "Buongiorno, oggi il tempo sarà soleggiato e caldo.",
        "La riunione inizierà domani alle nove nella sala grande.",
        "Abbiamo ricevuto il vostro messaggio e risponderemo presto.",
        "Diversi veicoli sono stati visti sulla strada del nord stanotte.",
        "Per favore tenete la porta chiusa e non aprite a nessuno.",
        "Il ponte è stato riparato due anni fa da operai del posto.",
        "Nessuno si aspettava che il prezzo del pane salisse ancora.",
        "La radio ha trasmesso le notizie due volte prima di mezzogiorno.",
        "Portate i documenti e aspettate vicino all'ingresso.",
        "I bambini sono tornati a casa lungo il fiume dopo la scuola.",
        "Ha promesso di richiamare prima della fine del mese.",
        "Settecento persone si sono riunite nella piazza.",
        "È importante parlare chiaramente quando si registra un messaggio.",
        "Il tempo sarà secco e caldo per gran parte della settimana.",
    ],
    "ca": [
        "Bon dia, avui farà sol i calor a tot el país.",
        "La reunió començarà demà a les nou a la sala gran.",
        "Hem rebut el vostre missatge i respondrem aviat.",
        "Es van veure diversos vehicles a la carretera del nord.",
        "Si us plau, tanqueu la porta i no obriu a ningú.",
        "El pont es va reparar fa dos anys amb treballadors locals.",
        "Ningú no esperava que el preu del pa tornés a pujar.",
        "La ràdio va emetre les notícies dues vegades abans del migdia.",
        "Porteu els documents i espereu a prop de l'entrada.",
        "Els nens van tornar a casa per la vora del riu.",
        "Va prometre que tornaria a trucar abans de final de mes.",
        "Set-centes persones es van reunir a la plaça.",
        "És important parlar clar quan es grava un missatge.",
        "El temps serà sec i càlid durant gairebé tota la setmana.",
    ],
    "ru": [
        "Добрый день, сегодня будет солнечно и тепло.",
        "Собрание начнётся завтра в девять часов в большом зале.",
        "Мы получили ваше сообщение и скоро ответим.",
        "Прошлой ночью на северной дороге видели несколько машин.",
        "Пожалуйста, закройте дверь и никому не открывайте.",
        "Мост отремонтировали два года назад местные рабочие.",
        "Никто не ожидал, что цена хлеба снова так быстро вырастет.",
        "Радио передало новости дважды до полудня.",
        "Возьмите документы и ждите у входа.",
        "Дети шли домой вдоль реки после школы.",
        "Он обещал перезвонить до конца месяца.",
        "На площади собралось семьсот человек.",
        "Важно говорить чётко, когда записываешь сообщение.",
        "Погода будет сухой и тёплой почти всю неделю.",
    ],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-voice", type=int, default=12)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if shutil.which("text2wave") is None:
        print("text2wave not found: apt-get install festival and the voices (see --help)")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    made = 0
    for voice, lang in VOICES.items():
        if not list(Path("/usr/share/festival/voices").glob(f"*/{voice}")):
            print(f"voice {voice} not installed, skipped", file=sys.stderr)
            continue
        label = voice.replace("_", "")
        for k, text in enumerate(TEXTS[lang][: args.per_voice]):
            out = args.out / f"{k}_{label}_{k}.wav"
            if out.exists():
                continue
            stretch = 0.85 + 0.05 * (k % 7)  # vary the speaking rate a little
            cmd = [
                "text2wave",
                "-eval",
                f"(voice_{voice})",
                "-eval",
                f"(Parameter.set 'Duration_Stretch {stretch:.2f})",
                "-o",
                str(out),
            ]
            res = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True)
            if res.returncode != 0 or not out.exists() or out.stat().st_size < 1000:
                out.unlink(missing_ok=True)
                print(f"{voice}: synthesis failed for sentence {k}", file=sys.stderr)
                continue
            made += 1
    print(f"made {made} files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
