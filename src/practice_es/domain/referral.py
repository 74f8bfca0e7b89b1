"""The Referral aggregate: referrals in (sources), referrals out and integrative care (R1–R2)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from practice_es.domain.client import Client
from practice_es.domain.client_rules import SOURCE_KINDS
from practice_es.domain.errors import InvalidInput, RuleRefused
from practice_es.domain.events import (
    TOPIC_PREFIX,
    PracticeAggregate,
    PracticeCreated,
    PracticeEvent,
    Stamp,
)
from practice_es.domain.keys import normalise_condition, normalise_key
from practice_es.domain.personal import Personal

Direction = Literal["in", "out"]
# Who refers in as a provider (a doctor, a physio filed as "other"): a care report can go back.
PROVIDER_KINDS = ("doctor", "other")


def _event(name: str) -> str:
    return f"{TOPIC_PREFIX}Referral.{name}"


class Referral(PracticeAggregate):
    """Inbound (`ReferralReceived`) or outbound (`ReferralMade`)."""

    TOPIC = TOPIC_PREFIX + "Referral"

    direction: Direction
    source_kind: str | None
    referrer: str | None
    prospect: Annotated[str | None, Personal]
    converted_client_id: UUID | None
    client_id: UUID | None
    provider: str | None
    reason: Annotated[str | None, Personal]
    contraindications: Annotated[list[str], Personal]
    cleared: bool | None
    care_reports_sent: int

    class ReferralReceived(PracticeCreated):
        TOPIC: ClassVar[str] = _event("ReferralReceived")
        source_kind: str
        referrer: str
        prospect: Annotated[str, Personal]

        def apply(self, referral: Referral) -> None:
            referral.start(direction="in", source_kind=self.source_kind, referrer=self.referrer,
                           prospect=self.prospect)

    class ReferralConverted(PracticeEvent):
        TOPIC: ClassVar[str] = _event("ReferralConverted")
        client_id: UUID

        def apply(self, referral: Referral) -> None:
            referral.converted_client_id = self.client_id

    class ReferralMade(PracticeCreated):
        TOPIC: ClassVar[str] = _event("ReferralMade")
        client_id: UUID
        number: int
        provider: str
        reason: Annotated[str, Personal]
        contraindications: Annotated[list[str], Personal] = []

        def apply(self, referral: Referral) -> None:
            referral.start(direction="out", client_id=self.client_id, provider=self.provider,
                           reason=self.reason, contraindications=list(self.contraindications))

    class ReferralOutcomeRecorded(PracticeEvent):
        TOPIC: ClassVar[str] = _event("ReferralOutcomeRecorded")
        cleared: bool
        note: Annotated[str | None, Personal] = None

        def apply(self, referral: Referral) -> None:
            referral.cleared = self.cleared

    class CareReportSent(PracticeEvent):
        TOPIC: ClassVar[str] = _event("CareReportSent")
        summary: Annotated[str, Personal]

        def apply(self, referral: Referral) -> None:
            referral.care_reports_sent += 1

    def start(self, **given: Any) -> None:
        """Every attribute of a referral: a received one leaves the outbound ones empty, and
        a referral made out the inbound ones."""
        self.__dict__.update(dict.fromkeys(self.State.model_fields), contraindications=[],
                             care_reports_sent=0)
        self.__dict__.update(given)

    @classmethod
    def receive(
        cls, stamp: Stamp, referral_id: UUID, source_kind: str, referrer: str, prospect: str
    ) -> Referral:
        if source_kind not in SOURCE_KINDS:
            raise InvalidInput("source", f"'{source_kind}' is not one of {', '.join(SOURCE_KINDS)}")
        if not referrer.strip():
            raise InvalidInput("referrer", "name who referred the prospect")
        if not prospect.strip():
            raise InvalidInput("prospect", "name the person referred")
        return cls._create(
            cls.ReferralReceived, id=referral_id, **stamp.fields(), source_kind=source_kind,
            referrer=normalise_key(referrer), prospect=prospect.strip(),
        )

    @classmethod
    def make(
        cls, stamp: Stamp, referral_id: UUID, number: int, client: Client, provider: str,
        reason: str,
    ) -> Referral:
        """Refer a client out. A reason naming an open contraindication is linked to it."""
        if not provider.strip():
            raise InvalidInput("to", "name the provider the client is referred to")
        if not reason.strip():
            raise InvalidInput("reason", "a referral out records its reason")
        linked = [c for k, c in client.open_contraindications.items()
                  if k == normalise_condition(reason)]
        return cls._create(
            cls.ReferralMade, id=referral_id, **stamp.fields(), client_id=client.id,
            number=number, provider=normalise_key(provider), reason=reason.strip(),
            contraindications=linked,
        )

    def convert(self, stamp: Stamp, client_id: UUID) -> None:
        """R1: an inbound referral converts into one client, at most once."""
        if self.direction != "in":
            raise RuleRefused("R1", f"referral {self.id} was made out, not received")
        if self.converted_client_id is not None:
            raise RuleRefused(
                "R1", f"referral {self.id} already converted to client {self.converted_client_id}"
            )
        self._trigger(self.ReferralConverted, stamp, client_id=client_id)

    def record_outcome(self, stamp: Stamp, cleared: bool, note: str | None) -> list[str]:
        """The provider's answer. Returns the contraindications it clears on the client."""
        self._check_outbound("record an outcome for")
        if self.cleared is not None:
            raise RuleRefused("R3", f"referral {self.id} already has its outcome recorded")
        self._trigger(self.ReferralOutcomeRecorded, stamp, cleared=cleared, note=note)
        return list(self.contraindications) if cleared else []

    def send_care_report(self, stamp: Stamp, summary: str) -> None:
        """R3: to the provider we referred the client to, or back to the provider who
        referred the client to us (integrative care), once the client has come in."""
        if self.direction == "in":
            self._check_reportable_back()
        if not summary.strip():
            raise InvalidInput("summary", "a care report has a summary")
        self._trigger(self.CareReportSent, stamp, summary=summary.strip())

    def _check_reportable_back(self) -> None:
        if self.source_kind not in PROVIDER_KINDS:
            raise RuleRefused("R3", f"cannot send a care report on referral {self.id}: it came "
                                    f"from a {self.source_kind} source, not a provider")
        if self.converted_client_id is None:
            raise RuleRefused("R3", f"cannot send a care report on referral {self.id}: the "
                                    "person referred has not come in (no intake names it)")

    def _check_outbound(self, action: str) -> None:
        if self.direction != "out":
            raise RuleRefused(
                "R3", f"cannot {action} referral {self.id}: it was received, not made"
            )
