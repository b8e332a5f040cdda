"""What candidates give the lab and ask of it: registered interest (with consent), forget-me, handoff to a
person, and the report of what the documents could not answer."""
