"""What a reader is told about requests: the detail a role may see, the progress tracker, the
timeline in plain words, the messages after each action, and the work waiting for them."""
