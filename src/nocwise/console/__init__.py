"""The live web console (NiceGUI) on the same app as the API."""
