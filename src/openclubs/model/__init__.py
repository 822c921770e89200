"""Plain facts about club data shared by every stage: UK postcodes, countries, the club types."""
