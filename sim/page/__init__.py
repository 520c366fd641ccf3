"""The explorer page (``opvang explore``): pick scenarios of a finished sweep and see the
report's figures, or change a lever and run that scenario over the posterior on demand.

Built with Panel, which serves one layout both as a local web page and inside a notebook
(:func:`view`). Safe by default: it listens on the loopback address, offers only the datasets
under the folder it was started on, checks levers as experiment files are checked, and runs one
scenario at a time with the replications fixed when it was started.
"""
