"""Stored sealed values after a key rotation, and contacts stored before they were sealed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, or_, select

from infra.vault import Vault
from models.cases import Case, ComplainantContact
from models.complaints import Complainant
from models.sealed import Sealed


@dataclass
class Resealed:
    rewrapped: int = 0  # sealed under a previous key, now wrapped by the current one
    sealed: int = 0  # stored in clear (before migration 0012), now sealed


def reseal_contacts(session: Session, vault: Vault) -> Resealed:
    """Every contact under the current key: data keys of older ones re-wrapped (their
    ciphertext unchanged), clear ones sealed and their clear columns emptied."""
    done = Resealed()
    rows = session.exec(
        select(ComplainantContact, Case)
        .join(Case, col(Case.id) == col(ComplainantContact.case_id))
        .where(
            or_(
                col(ComplainantContact.sealed).is_not(None),
                col(ComplainantContact.name).is_not(None),
                col(ComplainantContact.phone).is_not(None),
            )
        )
    ).all()
    for contact, case in rows:
        if contact.sealed is None:
            # Kept as recorded: a contact taken under earlier rules is sealed, not refused.
            clear = Complainant.model_construct(name=contact.name, phone=contact.phone)
            sealed = vault.seal_contact(clear, case.source_event_id)
            contact.sealed, contact.name, contact.phone = sealed.model_dump_json(), None, None
            done.sealed += 1
        else:
            current = Sealed.model_validate_json(contact.sealed)
            if current.kid == vault.kid:
                continue
            contact.sealed = vault.rewrap(current).model_dump_json()
            done.rewrapped += 1
        session.add(contact)
    session.commit()
    return done
