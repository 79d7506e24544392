"""Code shared by every layer of the assistant (indexer, bot, eval): configuration."""
