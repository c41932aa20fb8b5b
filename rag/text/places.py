"""A small gazetteer: country, US state and continent names, and the demonyms news writes for them.

"Which country ...?" and "which state ...?" ask for one of a closed set of names, so a sentence can be checked
for one by lookup instead of by capitalisation (which also matches people, firms and months). A demonym
("Iranian lawmakers") refers to a country without naming it; ``rag.answer.places`` prefers the sentence that
names it. Common names as news writes them, with their usual short forms; not an exhaustive list of polities.
"""

from __future__ import annotations

COUNTRIES: tuple[str, ...] = (
    "Afghanistan", "Albania", "Algeria", "Andorra", "Angola", "Argentina", "Armenia", "Australia", "Austria",
    "Azerbaijan", "Bahamas", "Bahrain", "Bangladesh", "Barbados", "Belarus", "Belgium", "Belize", "Benin",
    "Bhutan", "Bolivia", "Bosnia and Herzegovina", "Bosnia", "Botswana", "Brazil", "Brunei", "Bulgaria",
    "Burkina Faso", "Burundi", "Cambodia", "Cameroon", "Canada", "Cape Verde", "Central African Republic", "Chad",
    "Chile", "China", "Colombia", "Comoros", "Congo", "Costa Rica", "Croatia", "Cuba", "Cyprus", "Czech Republic",
    "Czechia", "Denmark", "Djibouti", "Dominica", "Dominican Republic", "East Timor", "Ecuador", "Egypt",
    "El Salvador", "Equatorial Guinea", "Eritrea", "Estonia", "Eswatini", "Ethiopia", "Fiji", "Finland", "France",
    "Gabon", "Gambia", "Georgia", "Germany", "Ghana", "Greece", "Grenada", "Guatemala", "Guinea", "Guinea-Bissau",
    "Guyana", "Haiti", "Honduras", "Hungary", "Iceland", "India", "Indonesia", "Iran", "Iraq", "Ireland", "Israel",
    "Italy", "Ivory Coast", "Jamaica", "Japan", "Jordan", "Kazakhstan", "Kenya", "Kiribati", "Kosovo", "Kuwait",
    "Kyrgyzstan", "Laos", "Latvia", "Lebanon", "Lesotho", "Liberia", "Libya", "Liechtenstein", "Lithuania",
    "Luxembourg", "Madagascar", "Malawi", "Malaysia", "Maldives", "Mali", "Malta", "Mauritania", "Mauritius",
    "Mexico", "Micronesia", "Moldova", "Monaco", "Mongolia", "Montenegro", "Morocco", "Mozambique", "Myanmar",
    "Burma", "Namibia", "Nauru", "Nepal", "Netherlands", "Holland", "New Zealand", "Nicaragua", "Niger", "Nigeria",
    "North Korea", "North Macedonia", "Norway", "Oman", "Pakistan", "Palau", "Palestine", "Panama",
    "Papua New Guinea", "Paraguay", "Peru", "Philippines", "Poland", "Portugal", "Qatar", "Romania", "Russia",
    "Rwanda", "Samoa", "San Marino", "Saudi Arabia", "Senegal", "Serbia", "Seychelles", "Sierra Leone",
    "Singapore", "Slovakia", "Slovenia", "Solomon Islands", "Somalia", "South Africa", "South Korea",
    "South Sudan", "Spain", "Sri Lanka", "Sudan", "Suriname", "Sweden", "Switzerland", "Syria", "Taiwan",
    "Tajikistan", "Tanzania", "Thailand", "Togo", "Tonga", "Trinidad and Tobago", "Tunisia", "Turkey", "Türkiye",
    "Turkmenistan", "Tuvalu", "Uganda", "Ukraine", "United Arab Emirates", "UAE", "United Kingdom", "UK", "U.K.",
    "Britain", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland", "United States", "US", "U.S.",
    "USA", "America", "Uruguay", "Uzbekistan", "Vanuatu", "Vatican", "Venezuela", "Vietnam", "Yemen", "Zambia",
    "Zimbabwe", "Hong Kong", "Greenland", "Puerto Rico",
)  # fmt: skip

US_STATES: tuple[str, ...] = (
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware", "Florida",
    "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine",
    "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska",
    "Nevada", "New Hampshire", "New Jersey", "New Mexico", "New York", "North Carolina", "North Dakota", "Ohio",
    "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee", "Texas",
    "Utah", "Vermont", "Virginia", "Washington", "West Virginia", "Wisconsin", "Wyoming",
)  # fmt: skip

CONTINENTS: tuple[str, ...] = (
    "Africa", "Antarctica", "Asia", "Europe", "Latin America", "North America", "Oceania", "South America",
)  # fmt: skip

# Short and other forms of a country's name -> the name ``DEMONYMS`` and comparisons use.
COUNTRY_ALIASES: dict[str, str] = {
    "UK": "United Kingdom", "U.K.": "United Kingdom", "Britain": "United Kingdom",
    "Great Britain": "United Kingdom", "US": "United States", "U.S.": "United States", "USA": "United States",
    "America": "United States", "UAE": "United Arab Emirates", "Czechia": "Czech Republic",
    "Holland": "Netherlands", "Burma": "Myanmar", "Türkiye": "Turkey", "Bosnia": "Bosnia and Herzegovina",
}  # fmt: skip

# Demonyms and adjectives of the countries and continents news writes about most (no name by themselves).
DEMONYMS: dict[str, str] = {
    "Afghan": "Afghanistan", "American": "United States", "Argentine": "Argentina", "Argentinian": "Argentina",
    "Australian": "Australia", "Austrian": "Austria", "Bangladeshi": "Bangladesh", "Belarusian": "Belarus",
    "Belgian": "Belgium", "Brazilian": "Brazil", "British": "United Kingdom", "Bulgarian": "Bulgaria",
    "Canadian": "Canada", "Chilean": "Chile", "Chinese": "China", "Colombian": "Colombia", "Cuban": "Cuba",
    "Czech": "Czech Republic", "Danish": "Denmark", "Dutch": "Netherlands", "Egyptian": "Egypt",
    "English": "England", "Estonian": "Estonia", "Ethiopian": "Ethiopia", "Filipino": "Philippines",
    "Finnish": "Finland", "French": "France", "German": "Germany", "Greek": "Greece", "Haitian": "Haiti",
    "Hungarian": "Hungary", "Indian": "India", "Indonesian": "Indonesia", "Iranian": "Iran", "Iraqi": "Iraq",
    "Irish": "Ireland", "Israeli": "Israel", "Italian": "Italy", "Jamaican": "Jamaica", "Japanese": "Japan",
    "Kenyan": "Kenya", "Korean": "South Korea", "Latvian": "Latvia", "Lebanese": "Lebanon", "Libyan": "Libya",
    "Lithuanian": "Lithuania", "Malaysian": "Malaysia", "Mexican": "Mexico", "Moroccan": "Morocco",
    "Nigerian": "Nigeria", "North Korean": "North Korea", "Norwegian": "Norway", "Pakistani": "Pakistan",
    "Palestinian": "Palestine", "Peruvian": "Peru", "Polish": "Poland", "Portuguese": "Portugal",
    "Qatari": "Qatar", "Romanian": "Romania", "Russian": "Russia", "Saudi": "Saudi Arabia",
    "Saudi Arabian": "Saudi Arabia", "Scottish": "Scotland", "Serbian": "Serbia", "Singaporean": "Singapore",
    "Somali": "Somalia", "South African": "South Africa", "South Korean": "South Korea", "Spanish": "Spain",
    "Sri Lankan": "Sri Lanka", "Sudanese": "Sudan", "Swedish": "Sweden", "Swiss": "Switzerland",
    "Syrian": "Syria", "Taiwanese": "Taiwan", "Thai": "Thailand", "Turkish": "Turkey", "Ugandan": "Uganda",
    "Ukrainian": "Ukraine", "Venezuelan": "Venezuela", "Vietnamese": "Vietnam", "Welsh": "Wales",
    "Yemeni": "Yemen", "African": "Africa", "Asian": "Asia", "European": "Europe",
    "Latin American": "Latin America", "North American": "North America", "South American": "South America",
    "South Asian": "Asia", "Southeast Asian": "Asia", "East Asian": "Asia", "Central Asian": "Asia",
    "West African": "Africa", "East African": "Africa", "North African": "Africa", "Central American": "North America",
}  # fmt: skip
