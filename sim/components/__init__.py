"""The components: shelters, place pools, outflow channels, intake, where people without a bed are."""
