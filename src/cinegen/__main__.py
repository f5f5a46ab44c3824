"""`python -m cinegen ...` = the `cinegen` command (where the package is on PYTHONPATH but not installed)."""
from cinegen.cli.main import main

main()
