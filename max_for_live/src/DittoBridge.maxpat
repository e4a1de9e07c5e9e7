{
	"patcher": {
		"fileversion": 1,
		"appversion": {
			"major": 8,
			"minor": 6,
			"revision": 5,
			"architecture": "x64",
			"modernui": 1
		},
		"classnamespace": "box",
		"rect": [
			100.0,
			100.0,
			1400.0,
			700.0
		],
		"openrect": [
			0.0,
			0.0,
			788.0,
			169.0
		],
		"bglocked": 0,
		"openinpresentation": 1,
		"default_fontsize": 10.0,
		"default_fontface": 0,
		"default_fontname": "Arial Bold",
		"gridonopen": 1,
		"gridsize": [
			8.0,
			8.0
		],
		"gridsnaponopen": 1,
		"objectsnaponopen": 1,
		"statusbarvisible": 2,
		"toolbarvisible": 1,
		"boxanimatetime": 200,
		"enablehscroll": 1,
		"enablevscroll": 1,
		"devicewidth": 788.0,
		"description": "ditto-bridge: generate audio in Live with DITTO (inpaint, continue, loop, melody, structure, rhythm, intensity).",
		"digest": "Sends jobs to the ditto-bridge daemon over OSC and imports the results.",
		"tags": "ditto-bridge",
		"style": "",
		"subpatcher_template": "",
		"assistshowspatchername": 0,
		"boxes": [
			{
				"box": {
					"id": "obj-plugin",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"signal",
						"signal"
					],
					"patching_rect": [
						20,
						20,
						53,
						22.0
					],
					"text": "plugin~"
				}
			},
			{
				"box": {
					"id": "obj-plugout",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"signal",
						"signal"
					],
					"patching_rect": [
						20,
						80,
						60,
						22.0
					],
					"text": "plugout~"
				}
			},
			{
				"box": {
					"id": "obj-thisdevice",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"bang",
						"int",
						"int"
					],
					"patching_rect": [
						120,
						20,
						95,
						22.0
					],
					"text": "live.thisdevice"
				}
			},
			{
				"box": {
					"id": "obj-loadbang",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"bang"
					],
					"patching_rect": [
						240,
						20,
						60,
						22.0
					],
					"text": "loadbang"
				}
			},
			{
				"box": {
					"id": "obj-dspstate",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"int",
						"float",
						"int",
						"int"
					],
					"patching_rect": [
						240,
						50,
						70,
						22.0
					],
					"text": "dspstate~"
				}
			},
			{
				"box": {
					"id": "obj-prep-sr",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						240,
						80,
						115,
						22.0
					],
					"text": "prepend samplerate"
				}
			},
			{
				"box": {
					"id": "obj-js",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						120,
						400,
						140,
						22.0
					],
					"text": "js ditto_device.js",
					"saved_object_attributes": {
						"filename": "ditto_device.js",
						"parameter_enable": 1,
						"parameter_mappable": 0
					},
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_invisible": 1,
							"parameter_longname": "Device State",
							"parameter_shortname": "State",
							"parameter_type": 3
						}
					},
					"varname": "Device State"
				}
			},
			{
				"box": {
					"id": "obj-udpsend",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						120,
						460,
						150,
						22.0
					],
					"text": "udpsend 127.0.0.1 9100"
				}
			},
			{
				"box": {
					"id": "obj-udpreceive",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						420,
						20,
						100,
						22.0
					],
					"text": "udpreceive 9101"
				}
			},
			{
				"box": {
					"id": "obj-send-ui",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						300,
						460,
						90,
						22.0
					],
					"text": "s ---ditto-ui"
				}
			},
			{
				"box": {
					"id": "obj-recv-ui",
					"maxclass": "newobj",
					"numinlets": 0,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						20,
						90,
						22.0
					],
					"text": "r ---ditto-ui"
				}
			},
			{
				"box": {
					"id": "obj-route-ui",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 11,
					"outlettype": [
						"",
						"",
						"",
						"",
						"",
						"",
						"",
						"",
						"",
						"",
						""
					],
					"patching_rect": [
						700,
						50,
						330,
						22.0
					],
					"text": "route status error progress connected domain dumpcurve idea settags setcurve setpattern"
				}
			},
			{
				"box": {
					"id": "obj-task",
					"maxclass": "live.menu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"patching_rect": [
						560,
						120,
						110,
						15
					],
					"presentation": 1,
					"presentation_rect": [
						44.0,
						4.0,
						106.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Task",
							"parameter_shortname": "Task",
							"parameter_type": 2,
							"parameter_enum": [
								"Generate",
								"Inpaint",
								"Continue",
								"Loop",
								"Match melody",
								"Structure",
								"Rhythm"
							],
							"parameter_mmax": 6,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 1
						}
					},
					"varname": "Task"
				}
			},
			{
				"box": {
					"id": "obj-lbl-task",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						500,
						120,
						40,
						18
					],
					"text": "Task",
					"presentation": 1,
					"presentation_rect": [
						4.0,
						4.0,
						40.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-prep-task",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						560,
						150,
						80,
						22.0
					],
					"text": "prepend task"
				}
			},
			{
				"box": {
					"id": "obj-quality",
					"maxclass": "live.tab",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"patching_rect": [
						560,
						180,
						100,
						15
					],
					"num_lines_patching": 1,
					"num_lines_presentation": 1,
					"presentation": 1,
					"presentation_rect": [
						44.0,
						22.0,
						106.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Quality",
							"parameter_shortname": "Quality",
							"parameter_type": 2,
							"parameter_enum": [
								"draft",
								"final"
							],
							"parameter_mmax": 1,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								1
							],
							"parameter_invisible": 1
						}
					},
					"varname": "Quality"
				}
			},
			{
				"box": {
					"id": "obj-lbl-quality",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						500,
						180,
						44,
						18
					],
					"text": "Quality",
					"presentation": 1,
					"presentation_rect": [
						4.0,
						22.0,
						40.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-prep-quality",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						560,
						205,
						95,
						22.0
					],
					"text": "prepend quality"
				}
			},
			{
				"box": {
					"id": "obj-bars",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"patching_rect": [
						560,
						240,
						44,
						15
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						56.0,
						34.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Length (bars)",
							"parameter_shortname": "Bars",
							"parameter_type": 1,
							"parameter_mmin": 1.0,
							"parameter_mmax": 64.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								4
							],
							"parameter_unitstyle": 0,
							"parameter_invisible": 1
						}
					},
					"varname": "Length (bars)"
				}
			},
			{
				"box": {
					"id": "obj-lbl-bars",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						560,
						222,
						44,
						18
					],
					"text": "Bars",
					"presentation": 1,
					"presentation_rect": [
						4.0,
						40.0,
						34.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-prep-bars",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						560,
						265,
						90,
						22.0
					],
					"text": "prepend bars"
				}
			},
			{
				"box": {
					"id": "obj-steps",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"patching_rect": [
						660,
						240,
						44,
						15
					],
					"presentation": 1,
					"presentation_rect": [
						40.0,
						56.0,
						34.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Steps",
							"parameter_shortname": "Steps",
							"parameter_type": 1,
							"parameter_mmin": 0.0,
							"parameter_mmax": 500.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_unitstyle": 0,
							"parameter_invisible": 1
						}
					},
					"varname": "Steps"
				}
			},
			{
				"box": {
					"id": "obj-lbl-steps",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						660,
						222,
						44,
						18
					],
					"text": "Steps",
					"presentation": 1,
					"presentation_rect": [
						40.0,
						40.0,
						34.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-prep-steps",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						660,
						265,
						90,
						22.0
					],
					"text": "prepend steps"
				}
			},
			{
				"box": {
					"id": "obj-seed",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"patching_rect": [
						760,
						240,
						44,
						15
					],
					"presentation": 1,
					"presentation_rect": [
						76.0,
						56.0,
						34.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Seed",
							"parameter_shortname": "Seed",
							"parameter_type": 1,
							"parameter_mmin": 0.0,
							"parameter_mmax": 99999.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_unitstyle": 0,
							"parameter_invisible": 1
						}
					},
					"varname": "Seed"
				}
			},
			{
				"box": {
					"id": "obj-lbl-seed",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						760,
						222,
						44,
						18
					],
					"text": "Seed",
					"presentation": 1,
					"presentation_rect": [
						76.0,
						40.0,
						34.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-prep-seed",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						760,
						265,
						90,
						22.0
					],
					"text": "prepend seed"
				}
			},
			{
				"box": {
					"id": "obj-variations",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"patching_rect": [
						860,
						240,
						44,
						15
					],
					"presentation": 1,
					"presentation_rect": [
						112.0,
						56.0,
						38.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Variations",
							"parameter_shortname": "Takes",
							"parameter_type": 1,
							"parameter_mmin": 1.0,
							"parameter_mmax": 8.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								1
							],
							"parameter_unitstyle": 0,
							"parameter_invisible": 1
						}
					},
					"varname": "Variations"
				}
			},
			{
				"box": {
					"id": "obj-lbl-variations",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						860,
						222,
						44,
						18
					],
					"text": "Takes",
					"presentation": 1,
					"presentation_rect": [
						112.0,
						40.0,
						38.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-prep-variations",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						860,
						265,
						90,
						22.0
					],
					"text": "prepend variations"
				}
			},
			{
				"box": {
					"id": "obj-tags",
					"maxclass": "textedit",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"",
						"int",
						"",
						""
					],
					"patching_rect": [
						560,
						300,
						200,
						34
					],
					"keymode": 1,
					"lines": 2,
					"parameter_enable": 0,
					"presentation": 1,
					"presentation_rect": [
						156.0,
						21.0,
						186.0,
						50.0
					],
					"varname": "tags",
					"text": "",
					"hint": "Tags or a prompt, e.g. funk, drums, 100 bpm; press Return",
					"outputmode": 1
				}
			},
			{
				"box": {
					"id": "obj-lbl-tags",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						560,
						280,
						180,
						18
					],
					"text": "Tags / prompt (Return to set)",
					"presentation": 1,
					"presentation_rect": [
						156.0,
						4.0,
						186.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-route-tags",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						560,
						340,
						60,
						22.0
					],
					"text": "route text"
				}
			},
			{
				"box": {
					"id": "obj-prep-tags",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						560,
						370,
						80,
						22.0
					],
					"text": "prepend tags"
				}
			},
			{
				"box": {
					"id": "obj-range",
					"maxclass": "live.tab",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"patching_rect": [
						800,
						120,
						110,
						15
					],
					"num_lines_patching": 1,
					"num_lines_presentation": 1,
					"presentation": 1,
					"presentation_rect": [
						44.0,
						76.0,
						106.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Range Source",
							"parameter_shortname": "Range",
							"parameter_type": 2,
							"parameter_enum": [
								"Clip loop",
								"Arr. loop"
							],
							"parameter_mmax": 1,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 1
						}
					},
					"varname": "Range Source"
				}
			},
			{
				"box": {
					"id": "obj-lbl-range",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						760,
						120,
						40,
						18
					],
					"text": "Range",
					"presentation": 1,
					"presentation_rect": [
						4.0,
						76.0,
						40.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-prep-range",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						800,
						150,
						85,
						22.0
					],
					"text": "prepend range"
				}
			},
			{
				"box": {
					"id": "obj-place",
					"maxclass": "live.menu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"patching_rect": [
						800,
						180,
						130,
						15
					],
					"presentation": 1,
					"presentation_rect": [
						200.0,
						76.0,
						142.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Import Target",
							"parameter_shortname": "Import",
							"parameter_type": 2,
							"parameter_enum": [
								"Session: this track",
								"Session: selected track",
								"Arrangement: this track"
							],
							"parameter_mmax": 2,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 1
						}
					},
					"varname": "Import Target"
				}
			},
			{
				"box": {
					"id": "obj-lbl-place",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						760,
						180,
						40,
						18
					],
					"text": "Import",
					"presentation": 1,
					"presentation_rect": [
						156.0,
						76.0,
						44.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-prep-place",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						800,
						205,
						85,
						22.0
					],
					"text": "prepend place"
				}
			},
			{
				"box": {
					"id": "obj-function",
					"maxclass": "function",
					"numinlets": 1,
					"numoutlets": 4,
					"outlettype": [
						"float",
						"",
						"",
						"bang"
					],
					"patching_rect": [
						1000,
						300,
						200,
						80
					],
					"parameter_enable": 0,
					"range": [
						-39.0,
						-14.0
					],
					"domain": 16.0,
					"addpoints": [
						0.0,
						-20.0,
						0,
						16.0,
						-20.0,
						0
					],
					"presentation": 1,
					"presentation_rect": [
						350.0,
						21.0,
						176.0,
						50.0
					],
					"varname": "intensity_curve"
				}
			},
			{
				"box": {
					"id": "obj-lbl-function",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1000,
						280,
						200,
						18
					],
					"text": "Intensity curve (dB over the render)",
					"presentation": 1,
					"presentation_rect": [
						350.0,
						4.0,
						176.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-prep-bp",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1000,
						400,
						120,
						22.0
					],
					"text": "prepend breakpoints"
				}
			},
			{
				"box": {
					"id": "obj-msg-listdump",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1130,
						400,
						55,
						22
					],
					"text": "listdump"
				}
			},
			{
				"box": {
					"id": "obj-intensity",
					"maxclass": "live.dial",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"patching_rect": [
						1250,
						300,
						44,
						48
					],
					"presentation": 1,
					"presentation_rect": [
						532.0,
						4.0,
						44.0,
						48.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Intensity",
							"parameter_shortname": "Intens",
							"parameter_type": 0,
							"parameter_mmin": -39.0,
							"parameter_mmax": -14.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								-20.0
							],
							"parameter_unitstyle": 4
						}
					},
					"varname": "Intensity"
				}
			},
			{
				"box": {
					"id": "obj-prep-intensity",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1250,
						360,
						105,
						22.0
					],
					"text": "prepend intensity"
				}
			},
			{
				"box": {
					"id": "obj-curve",
					"maxclass": "live.tab",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"patching_rect": [
						1250,
						120,
						150,
						15
					],
					"num_lines_patching": 1,
					"num_lines_presentation": 1,
					"presentation": 1,
					"presentation_rect": [
						350.0,
						76.0,
						176.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Intensity Source",
							"parameter_shortname": "Curve",
							"parameter_type": 2,
							"parameter_enum": [
								"Off",
								"Drawn",
								"Automation"
							],
							"parameter_mmax": 2,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 1
						}
					},
					"varname": "Intensity Source"
				}
			},
			{
				"box": {
					"id": "obj-prep-curve",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1250,
						150,
						85,
						22.0
					],
					"text": "prepend curve"
				}
			},
			{
				"box": {
					"id": "obj-rec",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						1250,
						180,
						44,
						15
					],
					"mode": 1,
					"text": "Rec",
					"texton": "Rec",
					"presentation": 1,
					"presentation_rect": [
						532.0,
						56.0,
						44.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Record Intensity",
							"parameter_shortname": "Rec",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 1
						}
					},
					"varname": "Record Intensity"
				}
			},
			{
				"box": {
					"id": "obj-prep-rec",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1250,
						205,
						95,
						22.0
					],
					"text": "prepend record"
				}
			},
			{
				"box": {
					"id": "obj-generate",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						560,
						420,
						80,
						20
					],
					"mode": 0,
					"text": "Generate",
					"texton": "Generate",
					"presentation": 1,
					"presentation_rect": [
						4.0,
						96.0,
						96.0,
						20.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Generate",
							"parameter_shortname": "Generate",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					},
					"varname": "Generate"
				}
			},
			{
				"box": {
					"id": "obj-prep-generate",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						560,
						450,
						105,
						22.0
					],
					"text": "prepend generate"
				}
			},
			{
				"box": {
					"id": "obj-cancel",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						700,
						420,
						60,
						20
					],
					"mode": 0,
					"text": "Cancel",
					"texton": "Cancel",
					"presentation": 1,
					"presentation_rect": [
						104.0,
						96.0,
						60.0,
						20.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Cancel",
							"parameter_shortname": "Cancel",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					},
					"varname": "Cancel"
				}
			},
			{
				"box": {
					"id": "obj-prep-cancel",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						450,
						95,
						22.0
					],
					"text": "prepend cancel"
				}
			},
			{
				"box": {
					"id": "obj-inbox",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						820,
						420,
						60,
						20
					],
					"mode": 0,
					"text": "Inbox\u2026",
					"texton": "Inbox\u2026",
					"presentation": 1,
					"presentation_rect": [
						168.0,
						96.0,
						60.0,
						20.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Choose Inbox",
							"parameter_shortname": "Inbox",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					},
					"varname": "Choose Inbox"
				}
			},
			{
				"box": {
					"id": "obj-t-inbox",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"bang"
					],
					"patching_rect": [
						820,
						450,
						30,
						22.0
					],
					"text": "t b"
				}
			},
			{
				"box": {
					"id": "obj-opendialog",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						820,
						480,
						95,
						22.0
					],
					"text": "opendialog fold"
				}
			},
			{
				"box": {
					"id": "obj-prep-inbox",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						820,
						510,
						85,
						22.0
					],
					"text": "prepend inbox"
				}
			},
			{
				"box": {
					"id": "obj-led",
					"maxclass": "led",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						"int"
					],
					"patching_rect": [
						1000,
						120,
						18,
						18
					],
					"ignoreclick": 1,
					"parameter_enable": 0,
					"oncolor": [
						0.2,
						0.85,
						0.3,
						1.0
					],
					"offcolor": [
						0.35,
						0.1,
						0.1,
						1.0
					],
					"presentation": 1,
					"presentation_rect": [
						236.0,
						97.0,
						18.0,
						18.0
					],
					"varname": "connection"
				}
			},
			{
				"box": {
					"id": "obj-lbl-led",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1020,
						120,
						60,
						18
					],
					"text": "Daemon",
					"presentation": 1,
					"presentation_rect": [
						256.0,
						98.5,
						48.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-progress",
					"maxclass": "slider",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						560,
						560,
						590,
						10
					],
					"floatoutput": 1,
					"size": 1.0,
					"ignoreclick": 1,
					"parameter_enable": 0,
					"orientation": 1,
					"presentation": 1,
					"presentation_rect": [
						4.0,
						122.0,
						780.0,
						10.0
					],
					"varname": "progress"
				}
			},
			{
				"box": {
					"id": "obj-status",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						560,
						580,
						590,
						18
					],
					"text": "Loading\u2026",
					"presentation": 1,
					"presentation_rect": [
						4.0,
						135.0,
						780.0,
						15.0
					],
					"varname": "status"
				}
			},
			{
				"box": {
					"id": "obj-error",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						560,
						600,
						590,
						18
					],
					"text": " ",
					"textcolor": [
						1.0,
						0.35,
						0.3,
						1.0
					],
					"presentation": 1,
					"presentation_rect": [
						4.0,
						152.0,
						780.0,
						15.0
					],
					"varname": "error"
				}
			},
			{
				"box": {
					"id": "obj-prep-set-status",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						700,
						90,
						75,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-prep-set-error",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						790,
						90,
						75,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-prep-set-progress",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						880,
						90,
						75,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-prep-setdomain",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						970,
						90,
						110,
						22.0
					],
					"text": "prepend setdomain"
				}
			},
			{
				"box": {
					"id": "obj-msg-dump",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1090,
						90,
						55,
						22
					],
					"text": "listdump"
				}
			},
			{
				"box": {
					"id": "obj-fresh",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						920,
						420,
						44,
						20
					],
					"mode": 0,
					"text": "Fresh",
					"texton": "Fresh",
					"presentation": 1,
					"presentation_rect": [
						310.0,
						96.0,
						44.0,
						20.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Fresh Idea",
							"parameter_shortname": "Fresh",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					},
					"varname": "Fresh Idea"
				}
			},
			{
				"box": {
					"id": "obj-prep-fresh",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						920,
						450,
						90,
						22.0
					],
					"text": "prepend fresh"
				}
			},
			{
				"box": {
					"id": "obj-idea",
					"maxclass": "live.numbox",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"patching_rect": [
						960,
						240,
						44,
						15
					],
					"presentation": 1,
					"presentation_rect": [
						388.0,
						98.5,
						34.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Idea",
							"parameter_shortname": "Idea",
							"parameter_type": 1,
							"parameter_mmin": 0.0,
							"parameter_mmax": 9999.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_unitstyle": 0,
							"parameter_invisible": 1
						}
					},
					"varname": "Idea"
				}
			},
			{
				"box": {
					"id": "obj-lbl-idea",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						960,
						222,
						44,
						18
					],
					"text": "Idea",
					"presentation": 1,
					"presentation_rect": [
						358.0,
						98.5,
						30.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-prep-idea",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						960,
						265,
						85,
						22.0
					],
					"text": "prepend idea"
				}
			},
			{
				"box": {
					"id": "obj-prep-set-idea",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1160,
						90,
						75,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-prep-set-tags",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1250,
						90,
						75,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-route-curve",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						1340,
						90,
						70,
						22.0
					],
					"text": "route bang"
				}
			},
			{
				"box": {
					"id": "obj-t-curve",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"bang"
					],
					"patching_rect": [
						1340,
						120,
						40,
						22.0
					],
					"text": "t l b"
				}
			},
			{
				"box": {
					"id": "obj-msg-clear",
					"maxclass": "message",
					"numinlets": 2,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1420,
						150,
						40,
						22
					],
					"text": "clear"
				}
			},
			{
				"box": {
					"id": "obj-zl-curve",
					"maxclass": "newobj",
					"numinlets": 2,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						1340,
						180,
						150,
						22.0
					],
					"text": "zl iter 2 @zlmaxsize 8192"
				}
			},
			{
				"box": {
					"id": "obj-reveal",
					"maxclass": "live.text",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						1040,
						420,
						60,
						20
					],
					"mode": 0,
					"text": "Show",
					"texton": "Show",
					"presentation": 1,
					"presentation_rect": [
						428.0,
						96.0,
						48.0,
						20.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Show Take",
							"parameter_shortname": "Show",
							"parameter_type": 2,
							"parameter_enum": [
								"off",
								"on"
							],
							"parameter_mmax": 1,
							"parameter_invisible": 2
						}
					},
					"varname": "Show Take",
					"hint": "Opens the folder holding the latest take, to drag it onto a track"
				}
			},
			{
				"box": {
					"id": "obj-prep-reveal",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1040,
						450,
						95,
						22.0
					],
					"text": "prepend reveal"
				}
			},
			{
				"box": {
					"id": "obj-lbl-pattern",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1480,
						280,
						130,
						18
					],
					"text": "Rhythm steps (accent)",
					"presentation": 1,
					"presentation_rect": [
						604.0,
						4.0,
						128.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-pattern",
					"maxclass": "multislider",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						""
					],
					"patching_rect": [
						1480,
						300,
						130,
						50
					],
					"parameter_enable": 0,
					"size": 16,
					"setminmax": [
						0.0,
						1.0
					],
					"settype": 1,
					"setstyle": 1,
					"spacing": 1,
					"presentation": 1,
					"presentation_rect": [
						604.0,
						21.0,
						128.0,
						50.0
					],
					"varname": "rhythm_steps"
				}
			},
			{
				"box": {
					"id": "obj-prep-pattern",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1480,
						360,
						95,
						22.0
					],
					"text": "prepend pattern"
				}
			},
			{
				"box": {
					"id": "obj-prep-set-pattern",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1480,
						250,
						75,
						22.0
					],
					"text": "prepend set"
				}
			},
			{
				"box": {
					"id": "obj-swing",
					"maxclass": "live.dial",
					"numinlets": 1,
					"numoutlets": 2,
					"outlettype": [
						"",
						"float"
					],
					"patching_rect": [
						1640,
						300,
						44,
						48
					],
					"presentation": 1,
					"presentation_rect": [
						736.0,
						4.0,
						44.0,
						48.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Swing",
							"parameter_shortname": "Swing",
							"parameter_type": 0,
							"parameter_mmin": 0.0,
							"parameter_mmax": 75.0,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0.0
							],
							"parameter_unitstyle": 5,
							"parameter_invisible": 1
						}
					},
					"varname": "Swing"
				}
			},
			{
				"box": {
					"id": "obj-prep-swing",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1640,
						360,
						85,
						22.0
					],
					"text": "prepend swing"
				}
			},
			{
				"box": {
					"id": "obj-resolution",
					"maxclass": "live.menu",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"patching_rect": [
						1640,
						400,
						60,
						15
					],
					"presentation": 1,
					"presentation_rect": [
						736.0,
						56.0,
						44.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Rhythm Resolution",
							"parameter_shortname": "Res",
							"parameter_type": 2,
							"parameter_enum": [
								"1/4",
								"1/8",
								"1/8T",
								"1/16",
								"1/16T",
								"1/32"
							],
							"parameter_mmax": 5,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								3
							],
							"parameter_invisible": 1
						}
					},
					"varname": "Rhythm Resolution"
				}
			},
			{
				"box": {
					"id": "obj-prep-resolution",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1640,
						425,
						105,
						22.0
					],
					"text": "prepend resolution"
				}
			},
			{
				"box": {
					"id": "obj-lbl-rhythm",
					"maxclass": "comment",
					"numinlets": 1,
					"numoutlets": 0,
					"patching_rect": [
						1480,
						400,
						44,
						18
					],
					"text": "Rhythm",
					"presentation": 1,
					"presentation_rect": [
						604.0,
						76.0,
						44.0,
						15.0
					]
				}
			},
			{
				"box": {
					"id": "obj-rhythm-source",
					"maxclass": "live.tab",
					"numinlets": 1,
					"numoutlets": 3,
					"outlettype": [
						"",
						"",
						"float"
					],
					"patching_rect": [
						1480,
						425,
						110,
						15
					],
					"num_lines_patching": 1,
					"num_lines_presentation": 1,
					"presentation": 1,
					"presentation_rect": [
						648.0,
						76.0,
						132.0,
						15.0
					],
					"parameter_enable": 1,
					"saved_attribute_attributes": {
						"valueof": {
							"parameter_longname": "Rhythm Source",
							"parameter_shortname": "Rhythm",
							"parameter_type": 2,
							"parameter_enum": [
								"Clip",
								"Steps"
							],
							"parameter_mmax": 1,
							"parameter_initial_enable": 1,
							"parameter_initial": [
								0
							],
							"parameter_invisible": 1
						}
					},
					"varname": "Rhythm Source"
				}
			},
			{
				"box": {
					"id": "obj-prep-rhythm-source",
					"maxclass": "newobj",
					"numinlets": 1,
					"numoutlets": 1,
					"outlettype": [
						""
					],
					"patching_rect": [
						1480,
						450,
						115,
						22.0
					],
					"text": "prepend rhythmsource"
				}
			}
		],
		"lines": [
			{
				"patchline": {
					"destination": [
						"obj-plugout",
						0
					],
					"source": [
						"obj-plugin",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-plugout",
						1
					],
					"source": [
						"obj-plugin",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-dspstate",
						0
					],
					"source": [
						"obj-loadbang",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-sr",
						0
					],
					"source": [
						"obj-dspstate",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-thisdevice",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-sr",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-udpsend",
						0
					],
					"source": [
						"obj-js",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-udpreceive",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-send-ui",
						0
					],
					"source": [
						"obj-js",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-task",
						0
					],
					"source": [
						"obj-task",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-task",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-quality",
						0
					],
					"source": [
						"obj-quality",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-quality",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-bars",
						0
					],
					"source": [
						"obj-bars",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-bars",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-steps",
						0
					],
					"source": [
						"obj-steps",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-steps",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-seed",
						0
					],
					"source": [
						"obj-seed",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-seed",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-variations",
						0
					],
					"source": [
						"obj-variations",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-variations",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-route-tags",
						0
					],
					"source": [
						"obj-tags",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-tags",
						0
					],
					"source": [
						"obj-route-tags",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-tags",
						0
					],
					"source": [
						"obj-route-tags",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-tags",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-range",
						0
					],
					"source": [
						"obj-range",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-range",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-place",
						0
					],
					"source": [
						"obj-place",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-place",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-bp",
						0
					],
					"source": [
						"obj-function",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-bp",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-msg-listdump",
						0
					],
					"source": [
						"obj-function",
						3
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-function",
						0
					],
					"source": [
						"obj-msg-listdump",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-intensity",
						0
					],
					"source": [
						"obj-intensity",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-intensity",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-curve",
						0
					],
					"source": [
						"obj-curve",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-curve",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-rec",
						0
					],
					"source": [
						"obj-rec",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-rec",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-generate",
						0
					],
					"source": [
						"obj-generate",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-generate",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-cancel",
						0
					],
					"source": [
						"obj-cancel",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-cancel",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-t-inbox",
						0
					],
					"source": [
						"obj-inbox",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-opendialog",
						0
					],
					"source": [
						"obj-t-inbox",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-inbox",
						0
					],
					"source": [
						"obj-opendialog",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-inbox",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-route-ui",
						0
					],
					"source": [
						"obj-recv-ui",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-set-status",
						0
					],
					"source": [
						"obj-route-ui",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-status",
						0
					],
					"source": [
						"obj-prep-set-status",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-set-error",
						0
					],
					"source": [
						"obj-route-ui",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-error",
						0
					],
					"source": [
						"obj-prep-set-error",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-set-progress",
						0
					],
					"source": [
						"obj-route-ui",
						2
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-progress",
						0
					],
					"source": [
						"obj-prep-set-progress",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-led",
						0
					],
					"source": [
						"obj-route-ui",
						3
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-setdomain",
						0
					],
					"source": [
						"obj-route-ui",
						4
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-function",
						0
					],
					"source": [
						"obj-prep-setdomain",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-msg-dump",
						0
					],
					"source": [
						"obj-route-ui",
						5
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-function",
						0
					],
					"source": [
						"obj-msg-dump",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-fresh",
						0
					],
					"source": [
						"obj-fresh",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-fresh",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-idea",
						0
					],
					"source": [
						"obj-idea",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-idea",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-set-idea",
						0
					],
					"source": [
						"obj-route-ui",
						6
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-idea",
						0
					],
					"source": [
						"obj-prep-set-idea",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-set-tags",
						0
					],
					"source": [
						"obj-route-ui",
						7
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-tags",
						0
					],
					"source": [
						"obj-prep-set-tags",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-route-curve",
						0
					],
					"source": [
						"obj-route-ui",
						8
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-msg-clear",
						0
					],
					"source": [
						"obj-route-curve",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-t-curve",
						0
					],
					"source": [
						"obj-route-curve",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-msg-clear",
						0
					],
					"source": [
						"obj-t-curve",
						1
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-zl-curve",
						0
					],
					"source": [
						"obj-t-curve",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-function",
						0
					],
					"source": [
						"obj-msg-clear",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-function",
						0
					],
					"source": [
						"obj-zl-curve",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-reveal",
						0
					],
					"source": [
						"obj-reveal",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-reveal",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-pattern",
						0
					],
					"source": [
						"obj-pattern",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-pattern",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-set-pattern",
						0
					],
					"source": [
						"obj-route-ui",
						9
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-pattern",
						0
					],
					"source": [
						"obj-prep-set-pattern",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-swing",
						0
					],
					"source": [
						"obj-swing",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-swing",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-resolution",
						0
					],
					"source": [
						"obj-resolution",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-resolution",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-prep-rhythm-source",
						0
					],
					"source": [
						"obj-rhythm-source",
						0
					]
				}
			},
			{
				"patchline": {
					"destination": [
						"obj-js",
						0
					],
					"source": [
						"obj-prep-rhythm-source",
						0
					]
				}
			}
		],
		"parameters": {
			"obj-task": [
				"Task",
				"Task",
				0
			],
			"obj-quality": [
				"Quality",
				"Quality",
				0
			],
			"obj-bars": [
				"Length (bars)",
				"Bars",
				0
			],
			"obj-steps": [
				"Steps",
				"Steps",
				0
			],
			"obj-seed": [
				"Seed",
				"Seed",
				0
			],
			"obj-variations": [
				"Variations",
				"Takes",
				0
			],
			"obj-range": [
				"Range Source",
				"Range",
				0
			],
			"obj-place": [
				"Import Target",
				"Import",
				0
			],
			"obj-intensity": [
				"Intensity",
				"Intens",
				0
			],
			"obj-curve": [
				"Intensity Source",
				"Curve",
				0
			],
			"obj-rec": [
				"Record Intensity",
				"Rec",
				0
			],
			"obj-generate": [
				"Generate",
				"Generate",
				0
			],
			"obj-cancel": [
				"Cancel",
				"Cancel",
				0
			],
			"obj-inbox": [
				"Choose Inbox",
				"Inbox",
				0
			],
			"obj-fresh": [
				"Fresh Idea",
				"Fresh",
				0
			],
			"obj-idea": [
				"Idea",
				"Idea",
				0
			],
			"obj-reveal": [
				"Show Take",
				"Show",
				0
			],
			"obj-js": [
				"Device State",
				"State",
				0
			],
			"obj-swing": [
				"Swing",
				"Swing",
				0
			],
			"obj-resolution": [
				"Rhythm Resolution",
				"Res",
				0
			],
			"obj-rhythm-source": [
				"Rhythm Source",
				"Rhythm",
				0
			],
			"inherited_shortname": 1
		},
		"dependency_cache": [
			{
				"name": "ditto_device.js",
				"patcherrelativepath": ".",
				"type": "TEXT",
				"implicit": 1
			}
		],
		"latency": 0,
		"is_mpe": 0,
		"minimum_live_version": "",
		"minimum_max_version": "",
		"platform_compatibility": 0,
		"project": {
			"version": 1,
			"creationdate": 3590052493,
			"modificationdate": 3590052493,
			"viewrect": [
				0.0,
				0.0,
				300.0,
				500.0
			],
			"autoorganize": 1,
			"hideprojectwindow": 1,
			"showdependencies": 1,
			"autolocalize": 0,
			"contents": {
				"patchers": {},
				"code": {
					"ditto_device.js": {
						"kind": "javascript",
						"local": 1
					}
				}
			},
			"layout": {},
			"searchpath": {},
			"detailsvisible": 0,
			"amxdtype": 1633771873,
			"readonly": 0,
			"devpathtype": 0,
			"devpath": ".",
			"sortmode": 0,
			"viewmode": 0,
			"includepackages": 0
		},
		"autosave": 0
	}
}