"""Example stacks the repository synthesizes (``app.py`` builds them with
``stacks.example_app.build_app``)."""
