"""One module per rule family; the model (``sim.model``) wires them together in weekly order."""
