"""`cinegen verify FILE`: is this video or image marked as AI-generated?

Exit code 0 when marked (a valid AI manifest or the watermark), 1 when not, 2 on bad input.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from cinegen.common.errors import CinegenError
from cinegen.provenance import verify_file


def verify_command(file: Path, json_out: bool = False) -> int:
    """Print the verification report (text or JSON) and return the exit code."""
    try:
        report = verify_file(file)
    except CinegenError as e:
        if json_out:
            print(json.dumps({"path": str(file), "error": str(e)}))
        else:
            print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict(), indent=2, default=str) if json_out else report.summary())
    return 0 if report.marked else 1
