"""One replication: personal variates, the client journey, the run of one replication."""
