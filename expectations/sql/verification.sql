-- Frame of the verification suite: the kept verification frame (verification_frame.sql, brought up to date
-- region by region before the year-wide suites run: expectations/stage.py), without its region column.
select * exclude (frame_region) from verification_frame
