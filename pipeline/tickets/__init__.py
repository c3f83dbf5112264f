"""What is wrong and who acts: finds, the rules table, merging views into tickets (dedup),
the ticket record, and the office's files written from it (ledgers, KML, report)."""
