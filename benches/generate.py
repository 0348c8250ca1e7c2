#!/usr/bin/env python3
"""Synthetic, deterministic school account exports for konform's benchmarks.

usage: generate.py ROWS OUT_DIR

Writes OUT_DIR/konform.yaml (a Hamburg school, packs common/eduport/iserv), OUT_DIR/accounts.csv
(ROWS accounts in DiViS/IServ style, `;`-separated, German headers), OUT_DIR/consents.csv and
OUT_DIR/iserv.yaml. About 1 row in 200 violates a rule, so findings stay few. All names are
generated from invented syllables.
"""
import os
import random
import sys

def main() -> None:
    rows = int(sys.argv[1])
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    rnd = random.Random(20261122)
    syll = ["an", "be", "ca", "do", "el", "fi", "ga", "ho", "is", "jo", "ka", "lu", "ma", "ne", "ol", "pe"]
    def name() -> str:
        return "".join(rnd.choice(syll) for _ in range(rnd.randint(2, 3))).title()
    with open(os.path.join(out, "konform.yaml"), "w", encoding="utf-8") as f:
        f.write("school: { id: \"5012\", country: DE, state: HH }\npacks: [common, eduport, iserv]\n"
                "parameters:\n  eduport: { manual_account_cap: 1000000 }\n"
                "inputs:\n  - path: accounts.csv\n    kind: accounts\n  - path: consents.csv\n    kind: consents\n")
    with open(os.path.join(out, "iserv.yaml"), "w", encoding="utf-8") as f:
        f.write("platform: iserv\nmodules:\n  videoconference: { enabled: true, recording: false, allowed_roles: [Lehrer, Schüler], retention_days: 7 }\n")
    with open(os.path.join(out, "accounts.csv"), "w", encoding="utf-8", newline="") as a, \
         open(os.path.join(out, "consents.csv"), "w", encoding="utf-8", newline="") as c:
        a.write("Kennung;Benutzername;Vorname;Nachname;E-Mail;Rolle;Personalgruppe;Herkunft;Status;Klasse;Geburtsdatum;Erstellt am;Letzte Anmeldung\r\n")
        c.write("Person;Zweck;Erteilt von;Datum;Formular\r\n")
        for i in range(rows):
            g, fam = name(), name()
            user = f"{g.lower()}.{fam.lower()}{i}"
            teacher = i % 12 == 0
            role = "Lehrkraft" if teacher else "Schüler"
            cat = "Lehrkraft" if teacher else ""
            if i % 997 == 0:
                user = f"lehrer{i}"
            if i % 1499 == 0:
                cat = "Honorarkraft"
            origin = "manuell" if i % 2000 == 0 else "DiViS"
            year = 1970 + (i % 30) if teacher else 2008 + (i % 10)
            born = f"{(i % 28) + 1:02d}.{(i % 12) + 1:02d}.{year}"
            a.write(f"P{i};{user};{g};{fam};{user}@schule.example;{role};{cat};{origin};aktiv;{5 + i % 8}a;{born};01.08.2023;{(i % 28) + 1:02d}.10.2026\r\n")
            if i % 211 != 0:
                by = "selbst" if teacher else "Erziehungsberechtigte"
                c.write(f"P{i};videokonferenz;{by};01.09.2025;VK-{i % 3}\r\n")

if __name__ == "__main__":
    main()
