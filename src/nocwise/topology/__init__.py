"""The graph of entities and relations: dependency paths, hop distance, impact, regions."""
