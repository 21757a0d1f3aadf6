"""`make demo`: the whole product on one machine, as a user would see it."""
