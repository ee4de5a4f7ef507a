"""Hardware descriptions shipped with archsim (YAML data, one file per chip)."""
