"""The orchestrator: what a message is for, and who answers it (a flow, the records, the documents)."""
