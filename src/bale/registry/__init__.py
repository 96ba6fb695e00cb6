"""The registry layer: what a registry says about its entries (model tags, cards, catalog)."""
