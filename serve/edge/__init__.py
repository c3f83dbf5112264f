"""The server's side of the edge boxes: device tokens and health, event storage, events
turned into tickets."""
