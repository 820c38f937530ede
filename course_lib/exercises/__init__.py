"""The checks that chapters call right below each exercise, one module per chapter."""
