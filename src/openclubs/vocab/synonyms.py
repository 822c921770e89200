"""openclubs' own synonyms for Activity List concepts.

The official list carries few alternative labels; people type the names they use. Each entry
maps a word people use to the official prefLabel it means. These are openclubs additions, not
part of the OpenActive list, and search and suggestions say so ("synonym").
"""

ACTIVITY_SYNONYMS: dict[str, str] = {
    "Soccer": "Football",
    "Footy": "Football",
    "Association Football": "Football",
    "Fitness": "Gym Workout",
    "Jiu Jitsu": "Ju-Jitsu",
    "Ping Pong": "Table Tennis",
    "Lawn Tennis": "Tennis",
    "Rifle Shooting": "Target Shooting",
    "Pistol Shooting": "Target Shooting",
    "Rugby Football": "Rugby",
    "Yachting": "Sailing",
    "Dinghy Sailing": "Sailing",
    "Bicycle": "Cycling",
    "Biking": "Cycling",
    "Ramblers": "Walking",
    "Paddling": "Canoeing",
}
