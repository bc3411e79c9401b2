"""Community answers: seekers ask public questions in a category, providers answer, the asker accepts one."""
