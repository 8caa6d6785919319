"""The report generators behind ``fastaug experiment`` and ``fastaug train-report``.

Applications of the library, kept apart from it: they train fastaug's MLP, write markdown
reports and draw their figures (the only modules but the ``--preview`` grid to import
matplotlib, and only while drawing).
"""
