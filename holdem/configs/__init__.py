"""The configs shipped with holdem (package data, so an installed wheel has them): quickstart, hunl-default,
leduc, leduc-es, kuhn. In a checkout, ./configs points here."""
