"""Side-by-side benchmarks of odm_dyn and its peers (issue 6); ``make bench`` runs them."""
