"""The demo personas: usernames the embedded IdP accepts and the roles the demo seed gives them."""

from __future__ import annotations

from dataclasses import dataclass

DEMO_INSTITUTION = "Demo University"


@dataclass(frozen=True)
class Persona:
    username: str
    name: str
    email: str
    institution: str
    description: str


DEMO_PERSONAS: tuple[Persona, ...] = (
    Persona("researcher", "Riley Researcher", "researcher@demo.example", DEMO_INSTITUTION,
            "a researcher who requests and downloads data"),
    Persona("researcher2", "Robin Researcher", "researcher2@demo.example", DEMO_INSTITUTION,
            "a second researcher, for trying access someone else holds"),
    Persona("signing-official", "Sam Official", "so@demo.example", DEMO_INSTITUTION,
            "Demo University's signing official: endorses its researchers' requests"),
    Persona("dac-chair", "Dana Chair", "dac-chair@demo.example", "Demo Consortium",
            "chair of the demo data-access committee"),
    Persona("dac-member", "Morgan Member", "dac-member@demo.example", "Demo Consortium",
            "member of the demo data-access committee"),
    Persona("auditor", "Avery Auditor", "auditor@demo.example", "Demo Consortium",
            "read-only auditor"),
    Persona("admin", "Alex Admin", "admin@demo.example", "Demo Consortium",
            "administrator of the service"),
)

PERSONAS_BY_USERNAME = {persona.username: persona for persona in DEMO_PERSONAS}
