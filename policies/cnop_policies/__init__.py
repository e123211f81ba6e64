"""Platform policies as data, and the code that reads them."""
