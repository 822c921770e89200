"""UK counties and regions, to tell a county from a town in free-form address lines."""

from __future__ import annotations

_NAMES = """
Bedfordshire; Berkshire; Bristol; Buckinghamshire; Cambridgeshire; Cheshire; City of London;
Cornwall; County Durham; Durham; Cumbria; Derbyshire; Devon; Dorset; East Riding of Yorkshire;
East Sussex; Essex; Gloucestershire; Greater London; London; Greater Manchester; Hampshire;
Herefordshire; Hertfordshire; Herts; Isle of Wight; Kent; Lancashire; Lancs; Leicestershire;
Leics; Lincolnshire; Lincs; Merseyside; Middlesex; Norfolk; North Yorkshire; Northamptonshire;
Northants; Northumberland; Nottinghamshire; Notts; Oxfordshire; Oxon; Rutland; Shropshire;
Somerset; South Yorkshire; Staffordshire; Staffs; Suffolk; Surrey; Tyne and Wear; Warwickshire;
West Midlands; West Sussex; West Yorkshire; Wiltshire; Wilts; Worcestershire; Yorkshire;
Avon; Cleveland; Humberside; Hereford and Worcester; Westmorland; Cumberland;
Aberdeenshire; Angus; Argyll and Bute; Ayrshire; East Ayrshire; North Ayrshire; South Ayrshire;
Clackmannanshire; Dumfries and Galloway; Dunbartonshire; East Dunbartonshire;
West Dunbartonshire; East Lothian; Midlothian; West Lothian; Lothian; Fife; Highland;
Inverclyde; Lanarkshire; North Lanarkshire; South Lanarkshire; Moray; Orkney; Perth and Kinross;
Perthshire; Renfrewshire; East Renfrewshire; Scottish Borders; Borders; Shetland; Stirlingshire;
Stirling; Western Isles; Na h-Eileanan Siar; Glasgow City; City of Edinburgh;
Anglesey; Isle of Anglesey; Blaenau Gwent; Bridgend; Caerphilly; Carmarthenshire; Ceredigion;
Conwy; Denbighshire; Flintshire; Glamorgan; Mid Glamorgan; South Glamorgan; West Glamorgan;
Vale of Glamorgan; Gwent; Gwynedd; Merthyr Tydfil; Monmouthshire; Neath Port Talbot;
Pembrokeshire; Powys; Rhondda Cynon Taf; Torfaen; Wrexham; Dyfed; Clwyd;
County Antrim; Antrim; County Armagh; Armagh; County Down; Down; County Fermanagh; Fermanagh;
County Londonderry; Londonderry; County Tyrone; Tyrone;
Jersey; Guernsey; Isle of Man
"""
REGIONS = frozenset(n.strip().casefold() for n in _NAMES.replace("\n", " ").split(";") if n.strip())


def is_region(text: str) -> bool:
    """True for a UK county or region name ("East Sussex", "Kent", "Notts")."""
    return " ".join(text.replace(",", " ").split()).casefold().removeprefix("co. ") in REGIONS
