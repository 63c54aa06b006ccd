"""``gan-zoo`` commands beyond LightningCLI's fit/validate/test, registered in ``gan_zoo.cli.COMMANDS``."""
