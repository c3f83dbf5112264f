"""Where things are: camera model and georeferencing (pixel -> ground, footprints, error
model, DEM), local metric frames and GCJ-02, fixed-camera calibration, the river network."""
