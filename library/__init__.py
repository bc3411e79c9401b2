"""The content library: providers' articles and guides (table `content`), some unlocked with POT."""
