"""Words for the world: synonym tables shared by captions (writing), parse (reading) and eval.

Every table maps a canonical spec value to its phrasings; the first phrasing is the plain one.
Captions draw only from these tables, so the parser can read back every caption it writes.
Multi-word phrases are plain strings; the parser splits them into tokens.
"""
from __future__ import annotations

COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "red": ("red", "crimson", "scarlet", "cherry-red"),
    "orange": ("orange", "tangerine", "amber", "bright orange"),
    "yellow": ("yellow", "golden", "lemon-yellow", "sunny yellow"),
    "green": ("green", "emerald", "leaf-green", "grass-green"),
    "cyan": ("cyan", "turquoise", "aqua", "teal"),
    "blue": ("blue", "cobalt", "royal blue", "sapphire"),
    "purple": ("purple", "violet", "plum", "indigo"),
    "pink": ("pink", "magenta", "rose-pink", "hot pink"),
}
BACKGROUND_COLOUR_WORDS: dict[str, tuple[str, ...]] = {
    "black": ("black", "jet-black", "pitch-black"),
    "gray": ("gray", "grey", "slate-grey"),
    "white": ("white", "off-white", "snow-white"),
    "brown": ("brown", "chocolate-brown", "dark brown"),
}
# Singular nouns; PLURALS below. Avoid words that are also motions ("circling") or floors ("tile").
SHAPE_WORDS: dict[str, tuple[str, ...]] = {
    "circle": ("ball", "circle", "disc", "disk", "dot", "sphere", "orb"),
    "square": ("square", "box", "block", "cube"),
    "triangle": ("triangle", "pyramid", "wedge"),
    "diamond": ("diamond", "rhombus", "lozenge"),
    "star": ("star", "starburst"),
    "hexagon": ("hexagon", "hex", "honeycomb cell"),
}
PLURALS: dict[str, str] = {
    "balls": "ball", "circles": "circle", "discs": "disc", "disks": "disk", "dots": "dot",
    "spheres": "sphere", "orbs": "orb", "squares": "square", "boxes": "box", "blocks": "block",
    "cubes": "cube", "triangles": "triangle", "pyramids": "pyramid", "wedges": "wedge",
    "diamonds": "diamond", "stars": "star", "hexagons": "hexagon", "objects": "object",
    "shapes": "shape", "things": "thing",
}
GENERIC_NOUNS: tuple[str, ...] = ("object", "shape", "thing", "item")  # an object of unstated shape
SIZE_WORDS: dict[str, tuple[str, ...]] = {
    "small": ("small", "little", "tiny"),
    "medium": ("medium-sized", "medium", "mid-sized", "middle-sized"),
    "large": ("large", "big", "huge", "giant"),
}
COUNT_WORDS: dict[str, int] = {"two": 2, "three": 3, "2": 2, "3": 3, "pair": 2}

# Directions of travel: phrases that follow a motion verb.
DIRECTION_WORDS: dict[str, tuple[str, ...]] = {
    "right": ("right", "to the right", "rightward", "rightwards", "toward the right", "towards the right"),
    "left": ("left", "to the left", "leftward", "leftwards", "toward the left", "towards the left"),
    "up": ("up", "upward", "upwards", "toward the top", "towards the top", "skyward"),
    "down": ("down", "downward", "downwards", "toward the bottom", "towards the bottom"),
    "up-right": ("up-right", "up and to the right", "diagonally up and right", "toward the top right", "toward the upper right"),
    "up-left": ("up-left", "up and to the left", "diagonally up and left", "toward the top left", "toward the upper left"),
    "down-right": ("down-right", "down and to the right", "diagonally down and right", "toward the bottom right", "toward the lower right"),
    "down-left": ("down-left", "down and to the left", "diagonally down and left", "toward the bottom left", "toward the lower left"),
}
TURN_WORDS: dict[str, tuple[str, ...]] = {
    "cw": ("clockwise",),
    "ccw": ("counterclockwise", "counter-clockwise", "anticlockwise", "anti-clockwise"),
}

# Object motions. Each has progressive forms ("a ball bouncing"), present forms ("the ball bounces")
# and, where natural, participles used before the noun ("a bouncing ball").
MOTION_PROGRESSIVE: dict[str, tuple[str, ...]] = {
    "static": ("sitting still", "resting", "staying still", "standing still", "not moving", "holding still", "motionless", "stationary"),
    "move": ("moving", "sliding", "travelling", "traveling", "drifting", "gliding", "heading", "going"),
    "bounce": ("bouncing", "hopping", "bouncing along"),
    "fall": ("falling", "dropping", "plummeting", "falling down", "dropping down"),
    "rotate": ("rotating", "spinning", "turning", "twirling", "rotating in place", "spinning in place"),
    "grow": ("growing", "getting bigger", "expanding", "swelling", "growing larger", "getting larger"),
    "shrink": ("shrinking", "getting smaller", "contracting", "dwindling", "shrinking away"),
    "orbit": ("orbiting", "circling", "going around in a circle", "orbiting the centre", "circling around"),
}
MOTION_PRESENT: dict[str, tuple[str, ...]] = {
    "static": ("sits still", "rests", "stays still", "stands still", "does not move", "holds still", "stays put"),
    "move": ("moves", "slides", "travels", "drifts", "glides", "heads"),
    "bounce": ("bounces", "hops", "bounces along"),
    "fall": ("falls", "drops", "plummets", "falls down", "drops down"),
    "rotate": ("rotates", "spins", "turns", "twirls", "rotates in place", "spins in place"),
    "grow": ("grows", "gets bigger", "expands", "swells", "grows larger", "gets larger"),
    "shrink": ("shrinks", "gets smaller", "contracts", "dwindles"),
    "orbit": ("orbits", "goes around in a circle", "orbits the centre", "circles around"),
}
MOTION_PRENOMINAL: dict[str, tuple[str, ...]] = {
    "static": ("motionless", "stationary", "still", "static", "resting"),
    "bounce": ("bouncing", "hopping"),
    "fall": ("falling", "dropping"),
    "rotate": ("rotating", "spinning", "twirling"),
    "grow": ("growing", "expanding", "swelling"),
    "shrink": ("shrinking", "dwindling"),
    "orbit": ("orbiting", "circling"),
}
# Extra words some motions take, known to the parser (never an object's attribute).
MOTION_TAILS: dict[str, tuple[str, ...]] = {
    "bounce": ("on the floor", "off the floor", "up and down", "across the floor"),
    "fall": ("to the floor", "onto the floor", "and lands on the floor", "to the ground"),
    "static": ("in place", "in the frame"),
    "orbit": ("around the middle", "around the centre of the frame"),
}
BOUNCE_IN_PLACE = ("in place", "on the spot")

# Backgrounds: phrases for the short prompts ("on a checker floor") and long captions.
BACKGROUND_PHRASES: dict[str, tuple[str, ...]] = {
    "solid": (
        "on a plain {c} background", "against a solid {c} backdrop", "on a {c} background",
        "in front of a flat {c} backdrop", "against a {c} background",
    ),
    "sky": (
        "under a blue sky", "against a blue sky above green grass", "outdoors under an open sky",
        "in front of a sky and a grassy field", "above a green meadow under the sky",
    ),
    "checker": (
        "on a checker floor", "on a checkered floor", "on a checkerboard floor",
        "over a chessboard floor", "on a tiled floor", "in a room with a checkered floor",
    ),
}
# Single words and phrases that name a background kind by themselves.
BACKGROUND_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "sky": ("sky", "blue sky", "open sky", "outdoors", "outside", "grass", "green grass", "grassy", "meadow",
            "green meadow", "field", "green field", "green fields", "horizon"),
    "checker": ("checker", "checkered", "chequered", "checkerboard", "chessboard", "tiled", "checker floor"),
    "solid": ("plain", "solid", "flat"),
}

CAMERA_NOUNS: tuple[str, ...] = ("camera", "view")
CAMERA_PAN_WORDS: tuple[str, ...] = ("pans", "pan", "panning", "sweeps", "sweeping", "tracks", "tracking", "trucks", "trucking")
CAMERA_ZOOM_WORDS: dict[str, tuple[str, ...]] = {
    "in": ("zooms in", "zoom in", "zooming in", "pushes in", "push in", "pushing in", "dollies in"),
    "out": ("zooms out", "zoom out", "zooming out", "pulls back", "pull back", "pulling back", "pulls out", "dollies out", "widens"),
}
CAMERA_STATIC_PHRASES: tuple[str, ...] = (
    "static camera", "fixed camera", "steady camera", "locked-off camera", "still camera",
    "the camera holds still", "the camera stays still", "the camera does not move", "the camera is static",
    "the camera stays fixed", "the camera remains locked off",
)
# Camera sentences for captions: {d} is a direction phrase.
CAMERA_PAN_SENTENCES: tuple[str, ...] = (
    "the camera pans {d}", "the camera sweeps {d}", "the camera tracks {d}", "the view pans {d}", "the camera slowly pans {d}",
)
PAN_DIRECTION_WORDS: dict[str, tuple[str, ...]] = {
    "left": ("left", "to the left", "leftward"),
    "right": ("right", "to the right", "rightward"),
    "up": ("up", "upward"),
    "down": ("down", "downward"),
}
FRAMING_WORDS: dict[str, tuple[str, ...]] = {
    "wide": ("wide shot", "wide view", "establishing shot", "long shot"),
    "medium": ("medium shot", "mid shot", "medium view"),
    "close-up": ("close-up", "closeup", "close up", "close shot"),
}
SPEED_WORDS: tuple[str, ...] = ("slowly", "quickly", "fast", "slow", "gently", "steadily", "rapidly", "briskly", "gradually", "smoothly")
ARTICLES: dict[str, str] = {"a": "indefinite", "an": "indefinite", "the": "definite"}
PRONOUNS: tuple[str, ...] = ("it", "its", "it's")
COPULAS: tuple[str, ...] = ("is", "are", "looks", "appears")

# Words that carry no attribute: articles, linking words, scene nouns. Not reported as unknown.
FILLER_WORDS: frozenset[str] = frozenset(
    """and with while as be being there this that of on in at into onto to
    over under above below across through from by for then also one another other each both
    scene video clip shows show showing we see seen can here frame picture image footage
    floor ground background backdrop wall room stage surface setting
    which who where around along off about while meanwhile same whole entire steady
    holds stays remains keeps does do very quite slightly bit kind sort
    first second third cut cuts cutting shot shots between switches later finally
    lands landing land comes come rest settles settle place spot centre center middle
    losing height front against appear appears visible shown way go goes""".split()
)
