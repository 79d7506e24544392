"""The assistant: retrieval, answers, web app and Telegram bot over the index built by `indexer`."""
