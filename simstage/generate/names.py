"""The words generated scenes are made of: names, rooms, containers, objects, personas.

Each pool is disjoint from the others, so no name is both a character and a place,
and every object name is singular (questions say "the marble is").
"""

from __future__ import annotations

CHARACTERS = (
    "Sally", "Anne", "Ben", "Cara", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jade", "Kit", "Lena",
    "Milo", "Nora", "Omar", "Pia", "Ravi", "Sara", "Theo", "Uma", "Vik", "Wren", "Yara",
)  # fmt: skip
ROOMS = (
    "kitchen",
    "hallway",
    "garden",
    "study",
    "attic",
    "cellar",
    "porch",
    "bedroom",
    "garage",
    "pantry",
)
CONTAINERS = (
    "basket", "box", "drawer", "cupboard", "crate", "bag", "chest", "tin", "jar", "suitcase", "bucket",
    "envelope", "backpack", "bowl",
)  # fmt: skip
OBJECTS = (
    "marble", "apple", "ring", "coin", "letter", "scarf", "ball", "watch", "spoon", "stamp", "brooch", "pear",
    "torch", "notebook", "whistle", "ticket",
)  # fmt: skip
PERSONAS = (
    "A cheerful neighbour who notices a lot and says little.",
    "A busy student who tidies things away without thinking.",
    "A retired teacher, patient and precise.",
    "A curious child who loves hiding games.",
    "A forgetful uncle who means well.",
    "A practical cook who likes everything in its place.",
    "A quiet painter who daydreams.",
    "A restless teenager who is always on the way out.",
)
