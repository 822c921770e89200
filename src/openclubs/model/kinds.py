"""The kinds of record in OpenActive data that are opportunities (sessions, events,
facility slots), not organisations."""

OPPORTUNITY_TYPES = frozenset(
    """SessionSeries ScheduledSession Event EventSeries CourseInstance Course HeadlineEvent
    OnDemandEvent FacilityUse IndividualFacilityUse Slot session event facilityuse slot
    sessionseries scheduledsession courseinstance headlineevent""".split()
)
