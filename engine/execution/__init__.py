"""Orders from decision to fill: the order manager, paper and live executors, recovery."""
